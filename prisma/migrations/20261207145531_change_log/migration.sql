-- CreateTable
CREATE TABLE "ChangeCounter" (
    "orgId" TEXT NOT NULL,
    "lastSequence" BIGINT NOT NULL DEFAULT 0,
    "prunedThrough" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "ChangeCounter_pkey" PRIMARY KEY ("orgId")
);

-- CreateTable
CREATE TABLE "StripeChange" (
    "orgId" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "connectionId" TEXT,
    "type" TEXT NOT NULL,
    "objectId" TEXT,
    "stripeEventId" TEXT,
    "occurredAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "StripeChange_pkey" PRIMARY KEY ("orgId","sequence")
);

-- AddForeignKey
ALTER TABLE "ChangeCounter" ADD CONSTRAINT "ChangeCounter_orgId_fkey" FOREIGN KEY ("orgId") REFERENCES "Org"("id") ON DELETE CASCADE ON UPDATE CASCADE;
