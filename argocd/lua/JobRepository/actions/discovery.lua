-- Which JobRepository actions apply now: a suspended repository can only be resumed.
local actions = {}
local suspended = obj.spec.suspend == true
actions["sync"] = {["disabled"] = suspended, ["iconClass"] = "fa fa-fw fa-sync", ["displayName"] = "Sync now"}
actions["suspend"] = {["disabled"] = suspended, ["iconClass"] = "fa fa-fw fa-pause-circle"}
actions["resume"] = {["disabled"] = not suspended, ["iconClass"] = "fa fa-fw fa-play-circle"}
return actions
