-- AlterTable
ALTER TABLE "StripeConnection" ADD COLUMN     "eventsCursor" TIMESTAMP(3),
ADD COLUMN     "syncLeaseOwner" TEXT,
ADD COLUMN     "syncLeaseUntil" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "StripePayout" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "arrivalDate" TIMESTAMP(3) NOT NULL,
    "method" TEXT,
    "type" TEXT,
    "automatic" BOOLEAN,
    "description" TEXT,
    "failureCode" TEXT,
    "failureMessage" TEXT,
    "reconciliationStatus" TEXT,

    CONSTRAINT "StripePayout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeCharge" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "amountCaptured" BIGINT NOT NULL,
    "amountRefunded" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "paid" BOOLEAN NOT NULL,
    "refunded" BOOLEAN NOT NULL,
    "disputed" BOOLEAN NOT NULL,
    "captured" BOOLEAN NOT NULL,
    "description" TEXT,
    "customerId" TEXT,
    "paymentMethodType" TEXT,

    CONSTRAINT "StripeCharge_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeRefund" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "status" TEXT,
    "chargeId" TEXT,
    "reason" TEXT,

    CONSTRAINT "StripeRefund_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeDispute" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "chargeId" TEXT,
    "evidenceDueBy" TIMESTAMP(3),

    CONSTRAINT "StripeDispute_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeBalanceTransaction" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "fee" BIGINT NOT NULL,
    "net" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "reportingCategory" TEXT,
    "status" TEXT NOT NULL,
    "sourceId" TEXT,
    "payoutId" TEXT,
    "availableOn" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "StripeBalanceTransaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeCustomer" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "email" TEXT,
    "name" TEXT,
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "StripeCustomer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeSubscription" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "status" TEXT NOT NULL,
    "customerId" TEXT,
    "currency" TEXT,

    CONSTRAINT "StripeSubscription_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeApplicationFee" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "amountRefunded" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "chargeId" TEXT,

    CONSTRAINT "StripeApplicationFee_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeIssuingAuthorization" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "approved" BOOLEAN NOT NULL,

    CONSTRAINT "StripeIssuingAuthorization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeIssuingTransaction" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "type" TEXT NOT NULL,

    CONSTRAINT "StripeIssuingTransaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeAccount" (
    "connectionId" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,
    "businessName" TEXT,
    "email" TEXT,
    "country" TEXT,
    "defaultCurrency" TEXT,
    "chargesEnabled" BOOLEAN,
    "payoutsEnabled" BOOLEAN,
    "raw" JSONB NOT NULL,
    "lastEventAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "StripeAccount_pkey" PRIMARY KEY ("connectionId")
);

-- CreateTable
CREATE TABLE "StripeBalance" (
    "connectionId" TEXT NOT NULL,
    "livemode" BOOLEAN NOT NULL,
    "raw" JSONB NOT NULL,
    "fetchedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "StripeBalance_pkey" PRIMARY KEY ("connectionId")
);

-- CreateTable
CREATE TABLE "StripeEvent" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "connectionId" TEXT,
    "stripeId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "account" TEXT,
    "livemode" BOOLEAN NOT NULL,
    "created" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL,
    "raw" JSONB NOT NULL,
    "appliedAt" TIMESTAMP(3),

    CONSTRAINT "StripeEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeSyncState" (
    "connectionId" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "objectsSynced" INTEGER NOT NULL DEFAULT 0,
    "cursor" TEXT,
    "lastSyncedAt" TIMESTAMP(3),
    "error" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "StripeSyncState_pkey" PRIMARY KEY ("connectionId","resource")
);

-- CreateIndex
CREATE INDEX "StripePayout_connectionId_arrivalDate_idx" ON "StripePayout"("connectionId", "arrivalDate");

-- CreateIndex
CREATE INDEX "StripePayout_connectionId_created_id_idx" ON "StripePayout"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripePayout_connectionId_stripeId_key" ON "StripePayout"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeCharge_connectionId_created_id_idx" ON "StripeCharge"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeCharge_connectionId_stripeId_key" ON "StripeCharge"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeRefund_connectionId_chargeId_idx" ON "StripeRefund"("connectionId", "chargeId");

-- CreateIndex
CREATE INDEX "StripeRefund_connectionId_created_id_idx" ON "StripeRefund"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeRefund_connectionId_stripeId_key" ON "StripeRefund"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeDispute_connectionId_created_id_idx" ON "StripeDispute"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeDispute_connectionId_stripeId_key" ON "StripeDispute"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeBalanceTransaction_connectionId_payoutId_idx" ON "StripeBalanceTransaction"("connectionId", "payoutId");

-- CreateIndex
CREATE INDEX "StripeBalanceTransaction_connectionId_created_id_idx" ON "StripeBalanceTransaction"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeBalanceTransaction_connectionId_stripeId_key" ON "StripeBalanceTransaction"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeCustomer_connectionId_created_id_idx" ON "StripeCustomer"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeCustomer_connectionId_stripeId_key" ON "StripeCustomer"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeSubscription_connectionId_created_id_idx" ON "StripeSubscription"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeSubscription_connectionId_stripeId_key" ON "StripeSubscription"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeApplicationFee_connectionId_created_id_idx" ON "StripeApplicationFee"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeApplicationFee_connectionId_stripeId_key" ON "StripeApplicationFee"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeIssuingAuthorization_connectionId_created_id_idx" ON "StripeIssuingAuthorization"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeIssuingAuthorization_connectionId_stripeId_key" ON "StripeIssuingAuthorization"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeIssuingTransaction_connectionId_created_id_idx" ON "StripeIssuingTransaction"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeIssuingTransaction_connectionId_stripeId_key" ON "StripeIssuingTransaction"("connectionId", "stripeId");

-- CreateIndex
CREATE INDEX "StripeEvent_connectionId_created_id_idx" ON "StripeEvent"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeEvent_orgId_stripeId_key" ON "StripeEvent"("orgId", "stripeId");

-- AddForeignKey
ALTER TABLE "StripePayout" ADD CONSTRAINT "StripePayout_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeCharge" ADD CONSTRAINT "StripeCharge_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeRefund" ADD CONSTRAINT "StripeRefund_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeDispute" ADD CONSTRAINT "StripeDispute_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeBalanceTransaction" ADD CONSTRAINT "StripeBalanceTransaction_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeCustomer" ADD CONSTRAINT "StripeCustomer_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeSubscription" ADD CONSTRAINT "StripeSubscription_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeApplicationFee" ADD CONSTRAINT "StripeApplicationFee_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeIssuingAuthorization" ADD CONSTRAINT "StripeIssuingAuthorization_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeIssuingTransaction" ADD CONSTRAINT "StripeIssuingTransaction_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeAccount" ADD CONSTRAINT "StripeAccount_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeBalance" ADD CONSTRAINT "StripeBalance_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeEvent" ADD CONSTRAINT "StripeEvent_orgId_fkey" FOREIGN KEY ("orgId") REFERENCES "Org"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeEvent" ADD CONSTRAINT "StripeEvent_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StripeSyncState" ADD CONSTRAINT "StripeSyncState_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
