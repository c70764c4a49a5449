// Package deploy holds no code: its tests check the repository's container
// deployment, docker-compose.yml, Dockerfile.jupyter, requirements.txt and
// .dockerignore, against what analyst needs from the Jupyter Kernel Gateway
// they run. No Docker engine is needed: the tests parse the files, and run the
// image's shell entrypoint and health check locally with stand-ins for the
// gateway.
package deploy
