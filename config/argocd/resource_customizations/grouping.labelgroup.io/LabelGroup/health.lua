-- Health of a LabelGroup (grouping.labelgroup.io/v1alpha1) for Argo CD.
-- Only Lua's base and table libraries are used: a script in argocd-cm that
-- does not set useOpenLibs gets neither string nor math.
local hs = {status = "Progressing", message = "Waiting for the labelgroup-operator to reconcile the group"}
if obj.status == nil then
  return hs
end
if obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for the labelgroup-operator to reconcile generation " .. obj.metadata.generation
  return hs
end
if obj.status.conditions == nil then
  return hs
end
local ready = nil
local overlapping = nil
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Overlapping" then
    overlapping = condition
  end
end
if ready == nil then
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  if overlapping ~= nil and overlapping.status == "True" then
    hs.message = ready.message .. "; " .. overlapping.message
  end
elseif ready.status == "False" then
  hs.status = "Degraded"
  hs.message = ready.message
end
return hs
