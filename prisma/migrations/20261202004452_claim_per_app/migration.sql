-- CreateIndex
CREATE INDEX "ProvisioningJob_state_appId_runAfter_id_idx" ON "ProvisioningJob"("state", "appId", "runAfter", "id");
