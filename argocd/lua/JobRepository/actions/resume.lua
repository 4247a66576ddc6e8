-- Resume: the controller syncs again (a spec change, so it fetches at once).
obj.spec.suspend = false
return obj
