-- CreateTable
CREATE TABLE "StripeApplicationFeeRefund" (
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
    "feeId" TEXT,
    "balanceTransactionId" TEXT,

    CONSTRAINT "StripeApplicationFeeRefund_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StripeApplicationFeeRefund_connectionId_feeId_idx" ON "StripeApplicationFeeRefund"("connectionId", "feeId");

-- CreateIndex
CREATE INDEX "StripeApplicationFeeRefund_connectionId_created_id_idx" ON "StripeApplicationFeeRefund"("connectionId", "created" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "StripeApplicationFeeRefund_connectionId_stripeId_key" ON "StripeApplicationFeeRefund"("connectionId", "stripeId");

-- AddForeignKey
ALTER TABLE "StripeApplicationFeeRefund" ADD CONSTRAINT "StripeApplicationFeeRefund_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "StripeConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
