package lab

// NewWithID is New with the ID chosen by the test, so that it can look for
// namespaces a failed New left behind without mistaking those of labs built
// concurrently by other tests for them.
var NewWithID = newWithID
