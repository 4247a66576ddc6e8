-- Restart from the last checkpoint through the controller's own restart path: status.restarts names the
-- worker Job's generation (controller/trainingjob/desired-children.ts), so the controller creates
-- <name>-workers-r<N> with RESUME_FROM_CHECKPOINT=status.lastCheckpoint and deletes the old Job. Like a
-- worker failure, it uses one of spec.backoffLimit's restarts. Argo CD writes status through the status subresource.
local os = require("os")
local status = obj.status or {}
if obj.spec.suspend == true then
  error("TrainingJob " .. obj.metadata.name .. " is suspended: resume it instead", 0)
end
if status.state ~= "Running" and status.state ~= "Initializing" then
  error("TrainingJob " .. obj.metadata.name .. " is " .. tostring(status.state) .. ": only a Running or Initializing job can be restarted", 0)
end
local restarts = (status.restarts or 0) + 1
local limit = obj.spec.backoffLimit or 3
if restarts > limit then
  error("TrainingJob " .. obj.metadata.name .. " has used all " .. limit .. " restarts of spec.backoffLimit", 0)
end

local from = "starting over: no checkpoint reported"
if status.lastCheckpoint ~= nil then
  from = "resuming from " .. status.lastCheckpoint
end
local now = os.date("!%Y-%m-%dT%XZ")
local message = "restart " .. restarts .. " of " .. limit .. " requested through Argo CD, " .. from

obj.status.state = "Restarting"
obj.status.restarts = restarts
if obj.status.conditions == nil then
  obj.status.conditions = {}
end
local found = false
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" or c.type == "Running" then
    if c.status ~= "False" then
      c.lastTransitionTime = now
    end
    c.status = "False"
    c.reason = "RestartRequested"
    c.message = message
    found = found or c.type == "Ready"
  end
end
if not found then
  table.insert(obj.status.conditions, {type = "Ready", status = "False", reason = "RestartRequested", message = message, lastTransitionTime = now})
end
return obj
