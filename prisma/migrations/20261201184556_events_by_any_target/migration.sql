-- CreateIndex
CREATE INDEX "LifecycleEvent_targets_idx" ON "LifecycleEvent" USING GIN ("targets" jsonb_path_ops);
