-- CreateEnum
CREATE TYPE "GroupType" AS ENUM ('OKTA_GROUP', 'APP_GROUP', 'BUILT_IN');

-- CreateEnum
CREATE TYPE "GroupRuleStatus" AS ENUM ('ACTIVE', 'INACTIVE', 'INVALID');

-- CreateEnum
CREATE TYPE "AppStatus" AS ENUM ('ACTIVE', 'INACTIVE');

-- CreateEnum
CREATE TYPE "ProvisioningStatus" AS ENUM ('ENABLED', 'DISABLED');

-- CreateEnum
CREATE TYPE "AppUserStatus" AS ENUM ('STAGED', 'PROVISIONED', 'ACTIVE', 'INACTIVE', 'DEPROVISIONED');

-- CreateEnum
CREATE TYPE "AppUserSyncState" AS ENUM ('DISABLED', 'OUT_OF_SYNC', 'SYNCING', 'SYNCHRONIZED', 'ERROR');

-- CreateEnum
CREATE TYPE "AssignmentScope" AS ENUM ('USER', 'GROUP');

-- CreateEnum
CREATE TYPE "ProvisioningJobType" AS ENUM ('CREATE', 'UPDATE', 'DEACTIVATE', 'REACTIVATE');

-- CreateEnum
CREATE TYPE "ProvisioningJobState" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "Group" (
    "id" TEXT NOT NULL,
    "type" "GroupType" NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUpdated" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastMembershipUpdated" TIMESTAMP(3),

    CONSTRAINT "Group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GroupMembership" (
    "groupId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "ruleId" TEXT,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GroupMembership_pkey" PRIMARY KEY ("groupId","userId")
);

-- CreateTable
CREATE TABLE "GroupRule" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "GroupRuleStatus" NOT NULL DEFAULT 'INACTIVE',
    "expression" TEXT NOT NULL,
    "assignToGroupIds" TEXT[],
    "excludedUserIds" TEXT[],
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUpdated" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GroupRule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "App" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "status" "AppStatus" NOT NULL DEFAULT 'ACTIVE',
    "signOnMode" TEXT NOT NULL,
    "provisioningStatus" "ProvisioningStatus" NOT NULL DEFAULT 'DISABLED',
    "provisioningBaseUrl" TEXT,
    "provisioningAuthScheme" TEXT,
    "provisioningToken" TEXT,
    "features" JSONB NOT NULL DEFAULT '{}',
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUpdated" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "App_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AppGroupAssignment" (
    "appId" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,
    "priority" INTEGER NOT NULL,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AppGroupAssignment_pkey" PRIMARY KEY ("appId","groupId")
);

-- CreateTable
CREATE TABLE "AppDirectAssignment" (
    "appId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AppDirectAssignment_pkey" PRIMARY KEY ("appId","userId")
);

-- CreateTable
CREATE TABLE "AppUser" (
    "id" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "scope" "AssignmentScope" NOT NULL,
    "status" "AppUserStatus" NOT NULL,
    "syncState" "AppUserSyncState" NOT NULL,
    "externalId" TEXT,
    "lastSync" TIMESTAMP(3),
    "provisioningError" JSONB,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUpdated" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "statusChanged" TIMESTAMP(3),

    CONSTRAINT "AppUser_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProvisioningJob" (
    "id" BIGSERIAL NOT NULL,
    "appUserId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "type" "ProvisioningJobType" NOT NULL,
    "state" "ProvisioningJobState" NOT NULL DEFAULT 'QUEUED',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "runAfter" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProvisioningJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Group_name_key" ON "Group"("name");

-- CreateIndex
CREATE INDEX "GroupMembership_userId_groupId_idx" ON "GroupMembership"("userId", "groupId");

-- CreateIndex
CREATE INDEX "GroupMembership_ruleId_idx" ON "GroupMembership"("ruleId");

-- CreateIndex
CREATE INDEX "GroupRule_status_idx" ON "GroupRule"("status");

-- CreateIndex
CREATE INDEX "App_status_idx" ON "App"("status");

-- CreateIndex
CREATE INDEX "AppGroupAssignment_groupId_idx" ON "AppGroupAssignment"("groupId");

-- CreateIndex
CREATE INDEX "AppDirectAssignment_userId_idx" ON "AppDirectAssignment"("userId");

-- CreateIndex
CREATE INDEX "AppUser_userId_idx" ON "AppUser"("userId");

-- CreateIndex
CREATE INDEX "AppUser_appId_status_idx" ON "AppUser"("appId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "AppUser_appId_userId_key" ON "AppUser"("appId", "userId");

-- CreateIndex
CREATE INDEX "ProvisioningJob_state_runAfter_idx" ON "ProvisioningJob"("state", "runAfter");

-- CreateIndex
CREATE INDEX "ProvisioningJob_appUserId_id_idx" ON "ProvisioningJob"("appUserId", "id");

-- AddForeignKey
ALTER TABLE "GroupMembership" ADD CONSTRAINT "GroupMembership_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GroupMembership" ADD CONSTRAINT "GroupMembership_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppGroupAssignment" ADD CONSTRAINT "AppGroupAssignment_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppGroupAssignment" ADD CONSTRAINT "AppGroupAssignment_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppDirectAssignment" ADD CONSTRAINT "AppDirectAssignment_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppDirectAssignment" ADD CONSTRAINT "AppDirectAssignment_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppUser" ADD CONSTRAINT "AppUser_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AppUser" ADD CONSTRAINT "AppUser_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The built-in Everyone group: every user is a member (kept so by the user service).
INSERT INTO "Group" ("id", "type", "name", "description", "created", "lastUpdated", "lastMembershipUpdated")
VALUES ('grp_everyone', 'BUILT_IN', 'Everyone', 'All users in the directory', now(), now(), now());
INSERT INTO "GroupMembership" ("groupId", "userId", "created")
SELECT 'grp_everyone', "id", now() FROM "User";
