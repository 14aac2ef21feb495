-- AlterTable
ALTER TABLE "StripeConnection" ADD COLUMN     "eventsPolledUntil" TIMESTAMP(3),
ADD COLUMN     "lastErrorCode" TEXT,
ADD COLUMN     "lastFailureAt" TIMESTAMP(3),
ADD COLUMN     "nextSyncAt" TIMESTAMP(3),
ADD COLUMN     "syncFailures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "tokenRefreshOwner" TEXT,
ADD COLUMN     "tokenRefreshUntil" TIMESTAMP(3);

-- The old cursor was moved by webhooks too, so events older than it may never have been applied: the
-- poller re-reads what Stripe still lists (its 30 days, less a margin) and skips what it already has.
UPDATE "StripeConnection" SET "eventsPolledUntil" = GREATEST("connectedAt", CURRENT_TIMESTAMP - INTERVAL '24 days')
WHERE "eventsCursor" IS NOT NULL;

ALTER TABLE "StripeConnection" DROP COLUMN "eventsCursor";

-- AlterTable
ALTER TABLE "StripeBalance" ADD COLUMN     "lastEventAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "StripeSubscription" ADD COLUMN     "deleted" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "StripeSyncState" ADD COLUMN     "objectsSkipped" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "EncryptionKeyCheck" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "ciphertext" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EncryptionKeyCheck_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StripeConnection_status_nextSyncAt_idx" ON "StripeConnection"("status", "nextSyncAt");
