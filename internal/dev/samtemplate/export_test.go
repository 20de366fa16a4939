package samtemplate

// Render is render, for the tests of package samtemplate_test that read
// parts of the template this package does not parse (custom resources).
var Render = render
