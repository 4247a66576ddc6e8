-- Resume: clears spec.suspend. The webhook checks the GPU quota again, so a resume over quota is refused.
local state = obj.status ~= nil and obj.status.state or nil
if state == "Completed" or state == "Failed" then
  error("TrainingJob " .. obj.metadata.name .. " is " .. state .. ", which is final: there is nothing to resume", 0)
end
if obj.metadata.annotations ~= nil and obj.metadata.annotations["ml.example.com/queued"] ~= nil then
  error("TrainingJob " .. obj.metadata.name .. " is queued for GPU quota; the controller starts it when capacity frees up", 0)
end
obj.spec.suspend = false
return obj
