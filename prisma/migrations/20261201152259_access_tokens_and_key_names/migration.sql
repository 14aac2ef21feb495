-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "name" TEXT NOT NULL DEFAULT 'Default';

-- CreateTable
CREATE TABLE "AccessToken" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "connectionIds" TEXT[],
    "allowConnect" BOOLEAN NOT NULL DEFAULT false,
    "connectMetadata" JSONB,
    "connectUsedAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AccessToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AccessToken_orgId_createdAt_idx" ON "AccessToken"("orgId", "createdAt");

-- AddForeignKey
ALTER TABLE "AccessToken" ADD CONSTRAINT "AccessToken_orgId_fkey" FOREIGN KEY ("orgId") REFERENCES "Org"("id") ON DELETE CASCADE ON UPDATE CASCADE;
