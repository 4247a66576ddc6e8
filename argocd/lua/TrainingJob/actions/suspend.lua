-- Suspend: spec.suspend stops the workers (the Job is suspended); resuming continues from the last checkpoint.
local state = obj.status ~= nil and obj.status.state or nil
if state == "Completed" or state == "Failed" then
  error("TrainingJob " .. obj.metadata.name .. " is " .. state .. ", which is final: there is nothing to suspend", 0)
end
obj.spec.suspend = true
return obj
