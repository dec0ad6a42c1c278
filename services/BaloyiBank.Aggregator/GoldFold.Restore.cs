namespace BaloyiBank.Aggregator;

public sealed partial class GoldFold
{
    /// <summary>
    /// Rebuilds the state a fold had from its own output: the current gold rows of accounts, loans and daily
    /// buckets, and the customers' registrations (read from silver). Nothing is marked changed: the next
    /// <see cref="TakeChanges"/> returns only what is folded afterwards. The daily-account memory (which accounts
    /// already count in a bucket's distinct_accounts) is not in gold: every restored date is <see cref="DailyPairs.Counted"/>;
    /// restore a date's pairs from silver with <see cref="RestoreDailyAccount(in DailyKey, string)"/> and
    /// <see cref="CompleteDailyAccounts"/> before folding its transactions row by row.
    /// </summary>
    public static GoldFold Restore(
        IEnumerable<AccountBalance> accounts,
        IEnumerable<CustomerFact> customers,
        IEnumerable<LoanStatusRow> loans,
        IEnumerable<DailySummary> daily,
        IEnumerable<CustomerPosition>? positions = null)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentNullException.ThrowIfNull(loans);
        ArgumentNullException.ThrowIfNull(daily);
        var fold = new GoldFold();
        foreach (var customer in customers)
        {
            fold.Fold(customer);
        }

        foreach (var row in accounts)
        {
            fold.RestoreAccount(row);
        }

        foreach (var row in loans)
        {
            fold.RestoreLoan(row);
        }

        foreach (var row in daily)
        {
            fold.RestoreDaily(row);
        }

        // Positions are derived from the rest; only the lineage of the round that last emitted them is restored.
        foreach (var row in positions ?? [])
        {
            if (fold._customers.TryGetValue(row.CustomerId, out var customer))
            {
                customer.Version = row.GoldVersion;
                customer.UpdatedAt = Units.Micros(row.UpdatedAt);
            }
        }

        fold.ClearMarks();
        fold._emittedAsOf = fold.AsOfDate;
        return fold;
    }

    private void RestoreAccount(AccountBalance row)
    {
        var index = AccountSlot(row.AccountId);
        ref var account = ref _accounts[index];
        account.Currency = Intern(row.Currency);
        account.Count = row.TransactionCount;
        account.CreditCents = Units.Cents(row.TotalCredits);
        account.DebitCents = Units.Cents(row.TotalDebits);
        account.FirstAt = row.FirstTransactionAt is { } first ? Units.Micros(first) : Units.NoTime;
        account.LastAt = row.LastTransactionAt is { } last ? Units.Micros(last) : Units.NoTime;
        account.Partition = row.SourcePartition;
        account.LastOffset = row.LastSourceOffset;
        account.Version = row.GoldVersion;
        account.UpdatedAt = Units.Micros(row.UpdatedAt);
        Observe(account.LastAt);
        if (row.OpenedSourceOffset is { } referenceOffset)
        {
            account.HasReference = true;
            account.AccountType = Intern(row.AccountType!);
            account.OpeningCents = Units.Cents(row.OpeningBalance!.Value);
            account.OverdraftCents = Units.Cents(row.OverdraftLimit!.Value);
            account.OpenedAt = Units.Micros(row.OpenedAt!.Value);
            account.ReferencePartition = row.SourcePartition;
            account.ReferenceOffset = referenceOffset;
            var customer = CustomerSlot(row.CustomerId!);
            account.Customer = customer;
            account.CustomerId = customer.Id;
            customer.Accounts.Add(index);
            Observe(account.OpenedAt);
        }
    }

    private void RestoreLoan(LoanStatusRow row)
    {
        var loan = LoanSlot(row.LoanId);
        loan.Count = row.InstalmentsPaid;
        loan.AmountCents = Units.Cents(row.PaidToDate);
        loan.PrincipalCents = Units.Cents(row.PrincipalRepaid);
        loan.InterestCents = Units.Cents(row.InterestPaid);
        loan.LastPaymentAt = row.LastPaymentAt is { } paid ? Units.Micros(paid) : Units.NoTime;
        loan.Partition = row.SourcePartition;
        loan.LastOffset = row.LastSourceOffset;
        loan.Version = row.GoldVersion;
        loan.UpdatedAt = Units.Micros(row.UpdatedAt);
        Observe(loan.LastPaymentAt);
        if (row.DisbursedSourceOffset is { } referenceOffset)
        {
            loan.Reference = new LoanFact(
                row.LoanId, row.CustomerId!, row.AccountId!, Intern(row.Product!), row.Principal!.Value, Intern(row.Currency!),
                row.AnnualInterestRate!.Value, row.TermMonths!.Value, row.MonthlyInstalment!.Value, row.FirstDueDate!.Value,
                row.DisbursedAt!.Value, row.SourcePartition, referenceOffset);
            var customer = CustomerSlot(row.CustomerId!);
            loan.Customer = customer;
            customer.Loans.Add(loan);
            Observe(Units.Micros(row.DisbursedAt.Value));
        }
    }

    private void RestoreDaily(DailySummary row)
    {
        var index = MergeDaily(row.Key, row.TransactionCount, Units.Cents(row.TotalAmount), Units.Cents(row.NetAmount), Units.Cents(row.MinAmount), Units.Cents(row.MaxAmount),
            row.LatitudeMicroSum, row.LongitudeMicroSum);
        ref var bucket = ref _buckets[index];
        bucket.DistinctAccounts = row.DistinctAccounts;
        bucket.Version = row.GoldVersion;
        bucket.UpdatedAt = Units.Micros(row.UpdatedAt);
        SetDatePairs(row.Key.EventDate, DailyPairs.Counted);
    }

    private void ClearMarks()
    {
        foreach (var index in _dirtyAccounts)
        {
            _accounts[index].Dirty = false;
        }

        foreach (var customer in _dirtyCustomers)
        {
            customer.Dirty = false;
        }

        foreach (var index in _dirtyBuckets)
        {
            _buckets[index].Dirty = false;
        }

        foreach (var loan in _dirtyLoans)
        {
            loan.Dirty = false;
        }

        _dirtyAccounts.Clear();
        _dirtyCustomers.Clear();
        _dirtyBuckets.Clear();
        _dirtyLoans.Clear();
    }
}
