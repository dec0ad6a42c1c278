using System.Globalization;
using BaloyiBank.Delta;
using DuckDB.NET.Data;
using BaloyiBank.Lake;

namespace BaloyiBank.Aggregator;

/// <summary>How one gold table compared with its recomputation from silver.</summary>
/// <param name="Table">The gold table's lake path.</param>
/// <param name="GoldRows">Current rows in gold.</param>
/// <param name="ExpectedRows">Rows the SQL recomputation gives.</param>
/// <param name="MissingOrDifferent">Expected rows gold does not hold exactly (absent or with other values).</param>
/// <param name="Unexpected">Gold rows the recomputation does not give exactly.</param>
/// <param name="Examples">Up to 5 differences, each as "expected: …" / "gold: …".</param>
public sealed record GoldTableVerification(string Table, long GoldRows, long ExpectedRows, long MissingOrDifferent, long Unexpected, IReadOnlyList<string> Examples)
{
    public bool Matches => MissingOrDifferent == 0 && Unexpected == 0;
}

/// <summary>The verifier's report: what was compared, as of which gold round and silver versions.</summary>
public sealed record GoldVerificationReport(long Round, IReadOnlyDictionary<string, long> SilverVersions, IReadOnlyDictionary<string, long> SilverLatest, IReadOnlyList<GoldTableVerification> Tables)
{
    /// <summary>Where a current-state table (one row per key) is not exactly the change tables' latest images (empty when it is).</summary>
    public IReadOnlyList<string> CurrentStateProblems { get; init; } = [];

    public bool Matches => Tables.All(t => t.Matches) && CurrentStateProblems.Count == 0;

    public long Differences => Tables.Sum(t => t.MissingOrDifferent + t.Unexpected) + CurrentStateProblems.Count;

    /// <summary>Silver commits gold has not folded yet (gold is compared with silver as of the versions it applied).</summary>
    public long SilverCommitsAhead => SilverLatest.Sum(s => Math.Max(0, s.Value - SilverVersions.GetValueOrDefault(s.Key, -1)));
}

/// <summary>
/// Recomputes every gold table from silver with DuckDB SQL alone (GROUP BY over <c>read_parquet</c> of the silver
/// files as of the versions gold recorded) and compares it row by row, every business column, with gold's current
/// rows. Shares no code with the fold beyond the table schemas, so a bug in one shows up as a difference.
/// </summary>
public static class GoldVerifier
{
    private const int ExampleCount = 5;

    public static async Task<GoldVerificationReport> VerifyAsync(ILakeStore lake, AggregatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(options);
        // The live gold generation against the silver it folds (after a rebuild: gold/g000N and its recorded silver root).
        var live = await GoldGenerations.ResolveAsync(lake, options, cancellationToken).ConfigureAwait(false);
        options = options.WithRoots(live.SilverRoot, live.Root);
        using var gold = new GoldStore(lake, options.GoldRoot, options.AppId);
        using var silver = new SilverSource(lake, options.SilverRoot);
        await gold.OpenAsync(cancellationToken).ConfigureAwait(false);
        var round = gold.Rounds().Values.Min();
        var versions = round == 0 ? silver.Paths.ToDictionary(p => p, _ => -1L) : gold.ProgressOf(round, silver.Paths);
        var latest = await silver.LatestVersionsAsync(cancellationToken).ConfigureAwait(false);

        using var connection = DuckDbSql.Open();
        Dictionary<string, string> from = [];
        foreach (var schema in SilverSource.Tables)
        {
            var version = versions[silver.PathOf(schema)];
            from[schema.Name] = version < 0
                ? new DeltaReadSet(schema, -1, []).ToSql()
                : (await silver.ReadSetAsync(schema, -1, version, cancellationToken).ConfigureAwait(false)).ToSql();
        }

        List<GoldTableVerification> tables = [];
        foreach (var schema in GoldTables.All)
        {
            var actual = await gold.CurrentRowsSqlAsync(schema, round, cancellationToken).ConfigureAwait(false);
            tables.Add(Compare(connection, schema, GoldStore.ChangeTablePath(options.GoldRoot, schema), ExpectedSql(schema, from), actual));
        }

        // The tables other readers open: one row per key, each the change tables' latest image as of their round.
        return new(round, versions, latest, tables) { CurrentStateProblems = await gold.VerifyCurrentAsync(cancellationToken).ConfigureAwait(false) };
    }

    private static GoldTableVerification Compare(DuckDBConnection connection, TableSchema schema, string path, string expected, string actual)
    {
        var columns = schema.Columns.Where(c => c.Name is not (GoldTables.VersionColumn or GoldTables.UpdatedAtColumn)).ToList();
        var select = string.Join(", ", columns.Select(c => $"CAST(\"{c.Name}\" AS {DeltaSchema.DuckDbTypeName(c.Type)}) AS \"{c.Name}\""));
        var names = string.Join(", ", columns.Select(c => $"\"{c.Name}\""));
        connection.Execute($"CREATE OR REPLACE TEMP TABLE verify_expected AS SELECT {select} FROM ({expected}) AS expected({names})");
        connection.Execute($"CREATE OR REPLACE TEMP TABLE verify_actual AS SELECT {select} FROM ({actual})");
        try
        {
            var expectedRows = connection.Scalar<long>("SELECT count(*) FROM verify_expected");
            var goldRows = connection.Scalar<long>("SELECT count(*) FROM verify_actual");
            var missing = connection.Scalar<long>("SELECT count(*) FROM (SELECT * FROM verify_expected EXCEPT ALL SELECT * FROM verify_actual)");
            var unexpected = connection.Scalar<long>("SELECT count(*) FROM (SELECT * FROM verify_actual EXCEPT ALL SELECT * FROM verify_expected)");
            List<string> examples = [];
            if (missing + unexpected > 0)
            {
                Examples(connection, "expected", "SELECT * FROM verify_expected EXCEPT ALL SELECT * FROM verify_actual", columns, examples);
                Examples(connection, "gold", "SELECT * FROM verify_actual EXCEPT ALL SELECT * FROM verify_expected", columns, examples);
            }

            return new(path, goldRows, expectedRows, missing, unexpected, examples);
        }
        finally
        {
            connection.Execute("DROP TABLE IF EXISTS verify_expected");
            connection.Execute("DROP TABLE IF EXISTS verify_actual");
        }
    }

    private static void Examples(DuckDBConnection connection, string label, string sql, List<ColumnSchema> columns, List<string> examples)
    {
        using var result = connection.Query($"{sql} ORDER BY ALL LIMIT {ExampleCount}");
        while (result.Read())
        {
            var values = columns.Select((c, i) => $"{c.Name}={(result.IsDBNull(i) ? "null" : Convert.ToString(result.GetValue(i) is DateTime utc ? new DateTimeOffset(utc, TimeSpan.Zero) : result.GetValue(i), CultureInfo.InvariantCulture))}");
            examples.Add($"{label}: {string.Join(", ", values)}");
        }
    }

    /// <summary>The recomputation of one gold table from silver, columns in the table's order.</summary>
    internal static string ExpectedSql(TableSchema schema, IReadOnlyDictionary<string, string> from)
    {
        var t = from["transactions"];
        var a = from["accounts"];
        var c = from["customers"];
        var l = from["loans"];
        var p = from["loan_payments"];
        // Reference rows: the earliest in the log wins when an id repeats.
        var accounts = $"(SELECT * FROM {a} QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY source_partition, source_offset) = 1)";
        var customers = $"(SELECT * FROM {c} QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY source_partition, source_offset) = 1)";
        var loans = $"(SELECT * FROM {l} QUALIFY row_number() OVER (PARTITION BY loan_id ORDER BY source_partition, source_offset) = 1)";
        var tx = $"(SELECT account_id, min(currency) AS currency, count(*) AS n, coalesce(sum(amount) FILTER (direction = 'credit'), 0) AS credits, " +
            $"coalesce(sum(amount) FILTER (direction <> 'credit'), 0) AS debits, min(occurred_at) AS first_at, max(occurred_at) AS last_at, " +
            $"min(source_partition) AS p, max(source_offset) AS o FROM {t} GROUP BY account_id)";
        var pay = $"(SELECT loan_id, count(*) AS n, sum(amount) AS amount, sum(principal_portion) AS principal, sum(interest_portion) AS interest, " +
            $"max(occurred_at) AS last_at, min(source_partition) AS p, max(source_offset) AS o FROM {p} GROUP BY loan_id)";

        return schema.Name switch
        {
            "account_balances" =>
                $"SELECT account_id, ac.customer_id, ac.account_type, coalesce(ac.currency, tx.currency) AS currency, ac.opening_balance, ac.overdraft_limit, " +
                $"coalesce(ac.opening_balance, 0) + coalesce(tx.credits, 0) - coalesce(tx.debits, 0) AS balance, " +
                $"coalesce(ac.opening_balance, 0) + coalesce(tx.credits, 0) - coalesce(tx.debits, 0) + coalesce(ac.overdraft_limit, 0) AS available_balance, " +
                $"coalesce(tx.n, 0), coalesce(tx.credits, 0), coalesce(tx.debits, 0), tx.first_at, tx.last_at, ac.occurred_at, " +
                $"least(every_row.p, tx.p), ac.source_offset, greatest(every_row.o, tx.o) " +
                $"FROM {accounts} ac FULL OUTER JOIN {tx} tx USING (account_id) " +
                $"LEFT JOIN (SELECT account_id, min(source_partition) AS p, max(source_offset) AS o FROM {a} GROUP BY account_id) every_row USING (account_id)",
            "customer_positions" =>
                $"WITH held AS (SELECT ac.customer_id, ac.currency, count(*) AS accounts, sum(ac.opening_balance + coalesce(tx.credits, 0) - coalesce(tx.debits, 0)) AS deposits, " +
                $"max(greatest(ac.occurred_at, tx.last_at)) AS last_at FROM {accounts} ac LEFT JOIN {tx} tx USING (account_id) GROUP BY ac.customer_id, ac.currency), " +
                $"owed AS (SELECT ln.customer_id, ln.currency, count(*) AS loans, sum(ln.principal) AS principal, sum(coalesce(pay.principal, 0)) AS repaid, " +
                $"sum(coalesce(pay.interest, 0)) AS interest, max(greatest(ln.occurred_at, pay.last_at)) AS last_at " +
                $"FROM {loans} ln LEFT JOIN {pay} pay USING (loan_id) GROUP BY ln.customer_id, ln.currency) " +
                $"SELECT customer_id, currency, cu.first_name, cu.last_name, cu.segment, cu.city, cu.country, coalesce(held.accounts, 0), coalesce(held.deposits, 0), " +
                $"coalesce(owed.loans, 0), coalesce(owed.principal, 0), coalesce(owed.repaid, 0), coalesce(owed.principal, 0) - coalesce(owed.repaid, 0), " +
                $"coalesce(owed.interest, 0), coalesce(held.deposits, 0) - (coalesce(owed.principal, 0) - coalesce(owed.repaid, 0)), greatest(held.last_at, owed.last_at) " +
                $"FROM held FULL OUTER JOIN owed USING (customer_id, currency) LEFT JOIN {customers} cu USING (customer_id)",
            "daily_transaction_summary" =>
                $"SELECT event_date, coalesce(merchant_category, transaction_type) AS category, country, city, currency, count(*), sum(amount), sum(signed_amount), " +
                $"CAST((CAST(sum(amount) * 100 AS HUGEINT) * 2 + count(*)) // (2 * count(*)) AS DECIMAL(18, 2)) * 0.01, " +
                $"min(amount), max(amount), count(DISTINCT account_id), " +
                $"sum(CAST(round(latitude * 1000000) AS BIGINT)), sum(CAST(round(longitude * 1000000) AS BIGINT)) FROM {t} GROUP BY ALL",
            "loan_status" =>
                $"WITH clock AS (SELECT CAST(max(m) AS DATE) AS as_of FROM (SELECT max(occurred_at) AS m FROM {t} UNION ALL SELECT max(occurred_at) FROM {a} " +
                $"UNION ALL SELECT max(occurred_at) FROM {c} UNION ALL SELECT max(occurred_at) FROM {l} UNION ALL SELECT max(occurred_at) FROM {p})), " +
                $"terms AS (SELECT loan_id, ln.* EXCLUDE (loan_id), coalesce(pay.n, 0) AS paid, pay.amount, pay.principal AS repaid, pay.interest, pay.last_at, pay.p AS pay_p, pay.o AS pay_o, " +
                $"CASE WHEN ln.term_months IS NOT NULL AND coalesce(pay.n, 0) < ln.term_months THEN CAST(ln.first_due_date + to_months(CAST(coalesce(pay.n, 0) AS INTEGER)) AS DATE) END AS next_due " +
                $"FROM {loans} ln FULL OUTER JOIN {pay} pay USING (loan_id)) " +
                $"SELECT loan_id, customer_id, account_id, product, currency, principal, annual_interest_rate, term_months, monthly_instalment, first_due_date, occurred_at, " +
                $"paid, coalesce(amount, 0), coalesce(repaid, 0), coalesce(interest, 0), principal - coalesce(repaid, 0), last_at, next_due, " +
                $"CASE WHEN next_due IS NOT NULL AND clock.as_of IS NOT NULL THEN greatest(0, clock.as_of - next_due) END, clock.as_of, " +
                $"least(every_row.p, pay_p), source_offset, greatest(every_row.o, pay_o) " +
                $"FROM terms CROSS JOIN clock LEFT JOIN (SELECT loan_id, min(source_partition) AS p, max(source_offset) AS o FROM {l} GROUP BY loan_id) every_row USING (loan_id)",
            _ => throw new ArgumentException($"'{schema.Name}' is not a gold table.", nameof(schema)),
        };
    }
}
