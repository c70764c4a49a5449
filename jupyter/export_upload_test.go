package jupyter

// UploadChunk is uploadChunk, for the tests of upload progress.
const UploadChunk = uploadChunk
