package jupyter_test

import (
	"fmt"

	"github.com/analyst-dev/analyst/jupyter"
)

func ExampleStripANSI() {
	tb := "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"
	fmt.Println(jupyter.StripANSI(tb))
	// Output: ZeroDivisionError: division by zero
}

func ExampleNewClient() {
	c, err := jupyter.NewClient(jupyter.Config{URL: "https://gateway.example.com/jupyter/?token=s3cret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.URL()) // the token is never shown
	_, err = jupyter.NewClient(jupyter.Config{URL: "gateway.example.com:8888"})
	fmt.Println(err)
	// Output:
	// https://gateway.example.com/jupyter
	// invalid gateway URL "gateway.example.com:8888": scheme must be http or https
}
