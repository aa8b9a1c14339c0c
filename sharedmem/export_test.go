package sharedmem

// Wire details the external tests check, exported to them only.
var (
	CheckName           = checkName
	ListName            = listName
	GlobalSharedMemory  = globalSharedMemory
	GlobalShareableList = globalShareableList
)
