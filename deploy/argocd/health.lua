-- Argo CD health check for the labimages.io kinds (LabAccount, GalleryAttachment, ImageExport,
-- LabTemplate). Argo CD counts a custom resource without a health check as Healthy at once; this
-- one reads the operator's kstatus conditions instead, so Argo CD agrees with kstatus (Flux) and
-- `kubectl wait --for=condition=Ready` (the table is in docs/health.md):
--   Progressing  the operator has not yet seen the current generation (status.observedGeneration
--                starts at -1), or work is under way (Ready is not True and nothing is Stalled)
--   Degraded     Stalled=True: only a change from a person helps (the message says which)
--   Healthy      Ready=True
-- While the object is being deleted, Argo CD shows Progressing with deletionMessage (what still
-- blocks the deletion).
-- Argo CD runs scripts from argocd-cm without the string and math libraries (unless
-- useOpenLibs is set), so this one uses neither.
-- Install it in argocd-cm once per kind (see deploy/README.md):
--   resource.customizations.health.labimages.io_ImageExport: |
--     <this file>
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c == nil then
    return fallback
  end
  local text = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Deleting"
  hs.deletionMessage = describe(condition("DeletionBlocked") or condition("Reconciling"), "Deleting")
  return hs
end

local generation = obj.metadata.generation or 0
local observed = -1
if obj.status ~= nil and obj.status.observedGeneration ~= nil then
  observed = obj.status.observedGeneration
end
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(condition("Reconciling") or ready, "Waiting for the operator")
return hs
