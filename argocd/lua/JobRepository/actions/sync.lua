-- Sync now: a new ml.example.com/requestedAt value makes the git-sync controller fetch at once, as a push hook does.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["ml.example.com/requestedAt"] = os.date("!%Y-%m-%dT%XZ")
return obj
