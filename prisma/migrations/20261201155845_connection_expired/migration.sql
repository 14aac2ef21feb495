-- AlterEnum
ALTER TYPE "StripeConnectionStatus" ADD VALUE 'EXPIRED';
