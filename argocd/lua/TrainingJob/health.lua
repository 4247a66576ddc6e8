-- Argo CD health of a TrainingJob (ml.example.com/v1), read from the status the controller writes
-- (controller/trainingjob/state.ts). Argo CD's Lua has no string or math library: only base, table, os.
local hs = {}

local function condition(ctype)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

-- The controller's own words for the current state: the Ready condition carries them for every state.
local function readyMessage(fallback)
  local ready = condition("Ready")
  if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
    return ready.message
  end
  return fallback
end

local status = obj.status or {}
local state = status.state
local generation = obj.metadata.generation

if state == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to pick up the job"
  return hs
end

-- Completed and Failed are final: the controller never leaves them, whatever the spec says now.
if state == "Completed" then
  hs.status = "Healthy"
  local done = condition("Completed")
  hs.message = (done ~= nil and done.message) or readyMessage("Training completed")
  return hs
end
if state == "Failed" then
  hs.status = "Degraded"
  local failed = condition("Failed")
  hs.message = (failed ~= nil and failed.message) or readyMessage("Training failed")
  return hs
end

-- A spec no retry can fix (InvalidSpec); an older generation's verdict no longer applies.
local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" and (stalled.observedGeneration == nil or generation == nil or stalled.observedGeneration >= generation) then
  hs.status = "Degraded"
  hs.message = stalled.message or "The controller cannot build this job"
  return hs
end

if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. generation
  return hs
end

if state == "Suspended" then
  hs.status = "Suspended"
  hs.message = readyMessage("Workers stopped by spec.suspend")
  return hs
end

if state == "Running" then
  local parts = {}
  if status.progress ~= nil then
    local p = status.progress
    if status.currentEpoch ~= nil and status.totalEpochs ~= nil then
      p = p .. " (epoch " .. status.currentEpoch .. "/" .. status.totalEpochs .. ")"
    end
    table.insert(parts, p)
  end
  table.insert(parts, readyMessage("workers running"))
  if status.metrics ~= nil and status.metrics.loss ~= nil then
    table.insert(parts, "loss " .. status.metrics.loss)
  end
  -- On GPUs lent by the cohort: the platform team sees which jobs a lender may reclaim.
  local borrowing = condition("Borrowing")
  if borrowing ~= nil and borrowing.status == "True" then
    table.insert(parts, borrowing.message)
  end
  hs.status = "Progressing"
  hs.message = "Running: " .. table.concat(parts, ", ")
  return hs
end

-- Pending, Queued, Initializing, Restarting: on their way, in the controller's words.
hs.status = "Progressing"
hs.message = state .. ": " .. readyMessage("waiting")
return hs
