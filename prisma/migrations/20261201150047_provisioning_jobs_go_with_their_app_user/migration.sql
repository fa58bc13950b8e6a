-- Jobs whose app user is already gone (deleted users and apps left them behind) cannot run.
DELETE FROM "ProvisioningJob" j WHERE NOT EXISTS (SELECT 1 FROM "AppUser" au WHERE au.id = j."appUserId");

-- AddForeignKey
ALTER TABLE "ProvisioningJob" ADD CONSTRAINT "ProvisioningJob_appUserId_fkey" FOREIGN KEY ("appUserId") REFERENCES "AppUser"("id") ON DELETE CASCADE ON UPDATE CASCADE;
