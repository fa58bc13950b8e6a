-- CreateTable
CREATE TABLE "rate_limit_budgets" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limit_budgets_pkey" PRIMARY KEY ("key")
);
