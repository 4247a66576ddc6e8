-- Argo CD health of a JobRepository (ml.example.com/v1), read from the Ready condition the git-sync
-- controller writes (controller/gitsync/reconciler.ts). Files the webhook refused (ManifestErrors) are
-- Degraded: jobs in Git are missing from the cluster, and the message names the first file.
local hs = {}

local ready = nil
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    end
  end
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Syncing is suspended (spec.suspend)"
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the first sync"
  return hs
end

-- The condition's generation, not status.observedGeneration: a failed fetch records the first but not the second.
local generation = obj.metadata.generation
if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to sync generation " .. generation
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Synced"
  return hs
end

-- FetchFailed (and the fetch error codes), ReadFailed, ManifestErrors, PruneBlocked: each needs a person.
hs.status = "Degraded"
hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
return hs
