-- Which TrainingJob actions apply now. Completed and Failed are final; a queued job waits for quota
-- and is released by the controller in creation order, so it cannot be resumed by hand.
local actions = {}
local status = obj.status or {}
local state = status.state
local terminal = state == "Completed" or state == "Failed"
local suspended = obj.spec.suspend == true
local queued = suspended and obj.metadata.annotations ~= nil and obj.metadata.annotations["ml.example.com/queued"] ~= nil
local restartsLeft = (status.restarts or 0) < (obj.spec.backoffLimit or 3)

actions["suspend"] = {["disabled"] = terminal or suspended, ["iconClass"] = "fa fa-fw fa-pause-circle"}
actions["resume"] = {["disabled"] = terminal or not suspended or queued, ["iconClass"] = "fa fa-fw fa-play-circle"}
actions["restart"] = {
  ["disabled"] = suspended or not (state == "Running" or state == "Initializing") or not restartsLeft,
  ["iconClass"] = "fa fa-fw fa-redo",
  ["displayName"] = "Restart from last checkpoint",
}
return actions
