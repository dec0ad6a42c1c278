using System.Globalization;
using BaloyiBank.Aggregator;
using BaloyiBank.Delta;
using BaloyiBank.Lake;

namespace BaloyiBank.Cli.Gold;

/// <summary>Balances of one currency over every account (currencies are never added together).</summary>
public sealed record CurrencyTotal(string Currency, long Accounts, decimal Balance, long Transactions);

/// <summary>What gold holds after a run: its round, rows per table and the balances per currency.</summary>
public sealed record GoldReport(long Round, int RoundsThisRun, IReadOnlyDictionary<string, long> Rows, IReadOnlyList<CurrencyTotal> Balances)
{
    /// <summary>
    /// Runs the aggregator to the end of silver (the in-process worker may have stopped a round behind when the
    /// run ended), then reads the current gold tables.
    /// </summary>
    public static async Task<GoldReport> CatchUpAndReadAsync(ILakeStore lake, AggregatorOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(options);
        // After a replay of silver the live gold is rebuilt from the new generation first (as the aggregator worker does).
        var live = await GoldGenerations.FollowSilverAsync(lake, options, cancellationToken: cancellationToken).ConfigureAwait(false);
        options = options.WithRoots(live.SilverRoot, live.Root);
        int rounds;
        using (var aggregator = new GoldAggregator(lake, options))
        {
            await aggregator.StartAsync(cancellationToken).ConfigureAwait(false);
            rounds = (await aggregator.CatchUpAsync(cancellationToken).ConfigureAwait(false)).Count;
        }

        using var gold = new GoldStore(lake, options.GoldRoot, options.AppId);
        await gold.OpenAsync(cancellationToken).ConfigureAwait(false);
        var round = gold.Rounds().Values.DefaultIfEmpty(0).Min();
        using var connection = DuckDbSql.Open();
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var schema in GoldTables.Business)
        {
            var current = await gold.CurrentRowsSqlAsync(schema, round, cancellationToken).ConfigureAwait(false);
            rows[schema.Name] = connection.Scalar<long>($"SELECT count(*) FROM ({current})");
        }

        var balances = await gold.CurrentRowsSqlAsync(GoldTables.AccountBalances, round, cancellationToken).ConfigureAwait(false);
        List<CurrencyTotal> totals = [];
        using (var result = connection.Query(
                   $"SELECT currency, count(*), sum(balance), sum(transaction_count)::BIGINT FROM ({balances}) GROUP BY currency ORDER BY currency"))
        {
            while (result.Read())
            {
                totals.Add(new CurrencyTotal(result.IsDBNull(0) ? "(account not yet opened)" : result.GetString(0), result.GetInt64(1),
                    result.IsDBNull(2) ? 0 : result.GetDecimal(2), result.IsDBNull(3) ? 0 : result.GetInt64(3)));
            }
        }

        return new GoldReport(round, rounds, rows, totals);
    }

    public string Describe() =>
        $"gold round {Round.ToString(CultureInfo.InvariantCulture)}: " + string.Join(", ", Rows.Select(r => $"{r.Key} {r.Value.ToString("N0", CultureInfo.InvariantCulture)} rows"));
}
