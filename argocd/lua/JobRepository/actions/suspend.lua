-- Suspend: the controller stops fetching and applying; jobs already created keep running.
obj.spec.suspend = true
return obj
