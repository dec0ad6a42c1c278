using System.Runtime.InteropServices;

namespace BaloyiBank.Aggregator;

public sealed partial class GoldFold
{
    /// <summary>
    /// The new images of every row changed since the last call, stamped with <paramref name="goldVersion"/> and
    /// <paramref name="updatedAt"/>; clears the marks. When the data's date moved,
    /// every loan changes (days past due are measured against it).
    /// </summary>
    public GoldChangeSet TakeChanges(long goldVersion, DateTimeOffset updatedAt)
    {
        var asOf = AsOfDate;
        if (asOf != _emittedAsOf)
        {
            foreach (var loan in _loans.Values)
            {
                MarkLoan(loan);
            }

            _emittedAsOf = asOf;
        }

        var stamp = Units.Micros(updatedAt);
        updatedAt = Units.Instant(stamp); // what the files hold (microseconds), so a current-state row equals its change image
        List<AccountBalance> accounts = new(_dirtyAccounts.Count);
        foreach (var index in _dirtyAccounts)
        {
            ref var account = ref _accounts[index];
            account.Dirty = false;
            account.Version = goldVersion;
            account.UpdatedAt = stamp;
            accounts.Add(AccountRow(in account, updatedAt));
        }

        List<CustomerPosition> customers = [];
        foreach (var customer in _dirtyCustomers)
        {
            customer.Dirty = false;
            customer.Version = goldVersion;
            customer.UpdatedAt = stamp;
            customers.AddRange(CustomerRows(customer, updatedAt));
        }

        List<DailySummary> daily = new(_dirtyBuckets.Count);
        foreach (var index in _dirtyBuckets)
        {
            ref var bucket = ref _buckets[index];
            bucket.Dirty = false;
            bucket.Version = goldVersion;
            bucket.UpdatedAt = stamp;
            daily.Add(DailyRow(in bucket, updatedAt));
        }

        List<LoanStatusRow> loans = new(_dirtyLoans.Count);
        foreach (var loan in _dirtyLoans)
        {
            loan.Dirty = false;
            loan.Version = goldVersion;
            loan.UpdatedAt = stamp;
            loans.Add(LoanRow(loan, updatedAt));
        }

        _dirtyAccounts.Clear();
        _dirtyCustomers.Clear();
        _dirtyBuckets.Clear();
        _dirtyLoans.Clear();

        // Rows in the order they were first touched: deterministic for a given input, not sorted (sorting millions
        // of rows by string keys would cost more than the fold; readers never depend on file order).
        return new(goldVersion, accounts, customers, daily, loans);
    }

    /// <summary>
    /// The current rows (each with the gold_version and updated_at of the round that last changed it) of the accounts
    /// whose id <paramref name="include"/> accepts, unordered. Call right after <see cref="TakeChanges"/>: then every
    /// row equals its latest image in the change tables.
    /// </summary>
    public IEnumerable<AccountBalance> CurrentAccounts(Func<string, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        for (var i = 0; i < _accountCount; i++)
        {
            if (_accounts[i].Version > 0 && include(_accounts[i].Id))
            {
                yield return AccountRow(in _accounts[i], Units.Instant(_accounts[i].UpdatedAt));
            }
        }
    }

    /// <summary>The current positions of the customers whose id <paramref name="include"/> accepts (see <see cref="CurrentAccounts"/>).</summary>
    public IEnumerable<CustomerPosition> CurrentCustomers(Func<string, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        foreach (var customer in _customers.Values)
        {
            if (customer.Version > 0 && include(customer.Id))
            {
                foreach (var row in CustomerRows(customer, Units.Instant(customer.UpdatedAt)))
                {
                    yield return row;
                }
            }
        }
    }

    /// <summary>The current daily rows of the event dates <paramref name="include"/> accepts (see <see cref="CurrentAccounts"/>).</summary>
    public IEnumerable<DailySummary> CurrentDaily(Func<DateOnly, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        for (var i = 0; i < _bucketCount; i++)
        {
            if (_buckets[i].Version > 0 && include(_buckets[i].Key.EventDate))
            {
                yield return DailyRow(in _buckets[i], Units.Instant(_buckets[i].UpdatedAt));
            }
        }
    }

    /// <summary>The current rows of the loans whose id <paramref name="include"/> accepts (see <see cref="CurrentAccounts"/>).</summary>
    public IEnumerable<LoanStatusRow> CurrentLoans(Func<string, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        foreach (var loan in _loans.Values)
        {
            if (loan.Version > 0 && include(loan.Id))
            {
                yield return LoanRow(loan, Units.Instant(loan.UpdatedAt));
            }
        }
    }

    /// <summary>Every current account row, by account id.</summary>
    public IReadOnlyList<AccountBalance> AccountBalances()
    {
        List<AccountBalance> rows = new(_accountCount);
        for (var i = 0; i < _accountCount; i++)
        {
            rows.Add(AccountRow(in _accounts[i], default));
        }

        rows.Sort((a, b) => string.CompareOrdinal(a.AccountId, b.AccountId));
        return rows;
    }

    /// <summary>Every current customer position, by customer and currency.</summary>
    public IReadOnlyList<CustomerPosition> CustomerPositions()
    {
        List<CustomerPosition> rows = [];
        foreach (var customer in _customers.Values)
        {
            rows.AddRange(CustomerRows(customer, default));
        }

        rows.Sort(CompareCustomerPositions);
        return rows;
    }

    /// <summary>Every current daily summary row, by key.</summary>
    public IReadOnlyList<DailySummary> DailySummaries()
    {
        List<DailySummary> rows = new(_bucketCount);
        for (var i = 0; i < _bucketCount; i++)
        {
            rows.Add(DailyRow(in _buckets[i], default));
        }

        rows.Sort((a, b) => CompareDailyKeys(a.Key, b.Key));
        return rows;
    }

    /// <summary>Every current loan row, by loan id.</summary>
    public IReadOnlyList<LoanStatusRow> LoanStatuses()
    {
        List<LoanStatusRow> rows = new(_loans.Count);
        foreach (var loan in _loans.Values)
        {
            rows.Add(LoanRow(loan, default));
        }

        rows.Sort((a, b) => string.CompareOrdinal(a.LoanId, b.LoanId));
        return rows;
    }

    internal static int CompareDailyKeys(DailyKey a, DailyKey b)
    {
        var c = a.EventDate.CompareTo(b.EventDate);
        if (c == 0) c = string.CompareOrdinal(a.Category, b.Category);
        if (c == 0) c = string.CompareOrdinal(a.Country, b.Country);
        if (c == 0) c = string.CompareOrdinal(a.City, b.City);
        if (c == 0) c = string.CompareOrdinal(a.Currency, b.Currency);
        return c;
    }

    private static int CompareCustomerPositions(CustomerPosition a, CustomerPosition b) =>
        string.CompareOrdinal(a.CustomerId, b.CustomerId) is var c and not 0 ? c : string.CompareOrdinal(a.Currency, b.Currency);

    private static AccountBalance AccountRow(in AccountState account, DateTimeOffset updatedAt)
    {
        var balance = account.BalanceCents;
        return new AccountBalance
        {
            AccountId = account.Id,
            CustomerId = account.HasReference ? account.CustomerId : null,
            AccountType = account.HasReference ? account.AccountType : null,
            Currency = account.Currency!,
            OpeningBalance = account.HasReference ? Units.Money(account.OpeningCents) : null,
            OverdraftLimit = account.HasReference ? Units.Money(account.OverdraftCents) : null,
            Balance = Units.Money(balance),
            AvailableBalance = Units.Money(balance + account.OverdraftCents),
            TransactionCount = account.Count,
            TotalCredits = Units.Money(account.CreditCents),
            TotalDebits = Units.Money(account.DebitCents),
            FirstTransactionAt = Units.InstantOrNull(account.FirstAt),
            LastTransactionAt = Units.InstantOrNull(account.LastAt),
            OpenedAt = account.HasReference ? Units.Instant(account.OpenedAt) : null,
            SourcePartition = account.Partition,
            OpenedSourceOffset = account.HasReference ? account.ReferenceOffset : null,
            LastSourceOffset = account.LastOffset,
            GoldVersion = account.Version,
            UpdatedAt = updatedAt,
        };
    }

    private List<CustomerPosition> CustomerRows(CustomerState customer, DateTimeOffset updatedAt)
    {
        // Per currency: accounts (deposits) and loans (principal, repaid, interest), never summed across currencies.
        SortedDictionary<string, Position> positions = new(StringComparer.Ordinal);
        foreach (var index in customer.Accounts)
        {
            ref var account = ref _accounts[index];
            var p = positions.TryGetValue(account.Currency!, out var known) ? known : new Position();
            p.Accounts++;
            p.DepositCents += account.BalanceCents;
            p.LastActivity = Math.Max(p.LastActivity, Math.Max(account.OpenedAt, account.LastAt));
            positions[account.Currency!] = p;
        }

        foreach (var loan in customer.Loans)
        {
            var terms = loan.Reference!;
            var p = positions.TryGetValue(terms.Currency, out var known) ? known : new Position();
            p.Loans++;
            p.PrincipalCents += Units.Cents(terms.Principal);
            p.RepaidCents += loan.PrincipalCents;
            p.InterestCents += loan.InterestCents;
            p.LastActivity = Math.Max(p.LastActivity, Math.Max(Units.Micros(terms.DisbursedAt), loan.LastPaymentAt));
            positions[terms.Currency] = p;
        }

        List<CustomerPosition> rows = new(positions.Count);
        var reference = customer.Reference;
        foreach (var (currency, p) in positions)
        {
            var outstanding = p.PrincipalCents - p.RepaidCents;
            rows.Add(new CustomerPosition
            {
                CustomerId = customer.Id,
                Currency = currency,
                FirstName = reference?.FirstName,
                LastName = reference?.LastName,
                Segment = reference?.Segment,
                City = reference?.City,
                Country = reference?.Country,
                Accounts = p.Accounts,
                Deposits = Units.Money(p.DepositCents),
                Loans = p.Loans,
                LoanPrincipal = Units.Money(p.PrincipalCents),
                LoanPrincipalRepaid = Units.Money(p.RepaidCents),
                LoansOutstanding = Units.Money(outstanding),
                LoanInterestPaid = Units.Money(p.InterestCents),
                NetPosition = Units.Money(p.DepositCents - outstanding),
                LastActivityAt = Units.InstantOrNull(p.LastActivity),
                GoldVersion = customer.Version,
                UpdatedAt = updatedAt,
            });
        }

        return rows;
    }

    private static DailySummary DailyRow(in DailyBucket bucket, DateTimeOffset updatedAt) => new()
    {
        EventDate = bucket.Key.EventDate,
        Category = bucket.Key.Category,
        Country = bucket.Key.Country,
        City = bucket.Key.City,
        Currency = bucket.Key.Currency,
        TransactionCount = bucket.Count,
        TotalAmount = Units.Money(bucket.TotalCents),
        NetAmount = Units.Money(bucket.NetCents),
        AvgAmount = Units.Money(Units.AverageCents(bucket.TotalCents, bucket.Count)),
        MinAmount = Units.Money(bucket.MinCents),
        MaxAmount = Units.Money(bucket.MaxCents),
        DistinctAccounts = bucket.DistinctAccounts,
        LatitudeMicroSum = bucket.LatitudeMicroSum,
        LongitudeMicroSum = bucket.LongitudeMicroSum,
        GoldVersion = bucket.Version,
        UpdatedAt = updatedAt,
    };

    private LoanStatusRow LoanRow(LoanState loan, DateTimeOffset updatedAt)
    {
        var terms = loan.Reference;
        DateOnly? nextDue = terms is not null && loan.Count < terms.TermMonths ? terms.FirstDueDate.AddMonths((int)loan.Count) : null;
        var asOf = AsOfDate;
        int? daysPastDue = nextDue is { } due && asOf is { } today ? Math.Max(0, today.DayNumber - due.DayNumber) : null;
        return new LoanStatusRow
        {
            LoanId = loan.Id,
            CustomerId = terms?.CustomerId,
            AccountId = terms?.AccountId,
            Product = terms?.Product,
            Currency = terms?.Currency,
            Principal = terms?.Principal,
            AnnualInterestRate = terms?.AnnualInterestRate,
            TermMonths = terms?.TermMonths,
            MonthlyInstalment = terms?.MonthlyInstalment,
            FirstDueDate = terms?.FirstDueDate,
            DisbursedAt = terms?.DisbursedAt,
            InstalmentsPaid = loan.Count,
            PaidToDate = Units.Money(loan.AmountCents),
            PrincipalRepaid = Units.Money(loan.PrincipalCents),
            InterestPaid = Units.Money(loan.InterestCents),
            Outstanding = terms is null ? null : Units.Money(Units.Cents(terms.Principal) - loan.PrincipalCents),
            LastPaymentAt = Units.InstantOrNull(loan.LastPaymentAt),
            NextDueDate = nextDue,
            DaysPastDue = daysPastDue,
            AsOfDate = asOf,
            SourcePartition = loan.Partition,
            DisbursedSourceOffset = terms?.SourceOffset,
            LastSourceOffset = loan.LastOffset,
            GoldVersion = loan.Version,
            UpdatedAt = updatedAt,
        };
    }

    private struct Position
    {
        public int Accounts;
        public long DepositCents;
        public int Loans;
        public long PrincipalCents;
        public long RepaidCents;
        public long InterestCents;
        public long LastActivity;

        public Position() => LastActivity = Units.NoTime;
    }
}
