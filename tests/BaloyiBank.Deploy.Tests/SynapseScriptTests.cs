using System.Text.RegularExpressions;
using BaloyiBank.Aggregator;
using BaloyiBank.Delta;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Deploy.Tests;

/// <summary>
/// deploy/synapse agrees with the code: the dedicated pool's DDL is exactly what the sink's T-SQL generation ensures
/// (schema, control tables, the MERGE target tables with their distribution, the reporting views), and the
/// serverless views over gold read every gold column and pick the current row per gold key.
/// </summary>
public sealed partial class SynapseScriptTests
{
    private static readonly TSqlDialect Synapse = new("baloyi", synapse: true);

    /// <summary>The statements the sink runs on a dedicated pool before its first load, in its order.</summary>
    internal static List<string> ExpectedDedicatedPool()
    {
        var statements = new List<string>();
        statements.AddRange(Synapse.CreateSchema());
        statements.AddRange(Synapse.CreateControlTables());
        statements.AddRange(SinkModel.Model.Tables.Select(Synapse.CreateTable));
        statements.AddRange(SinkModel.Model.AllViews.SelectMany(Synapse.CreateView));
        return statements;
    }

    [Fact]
    public void The_dedicated_pool_script_is_the_ddl_the_sink_generates()
    {
        var path = Repo.PathOf("deploy", "synapse", "dedicated-pool.sql");
        var actual = Batches(File.ReadAllText(path)).Select(Normalize).ToList();
        var expected = ExpectedDedicatedPool();
        if (!actual.SequenceEqual(expected.Select(Normalize), StringComparer.Ordinal))
        {
            // The whole expected script, to compare or to copy over the file after a deliberate change of the model.
            var regenerated = Path.Combine(Path.GetTempPath(), "dedicated-pool.expected.sql");
            File.WriteAllText(regenerated, string.Join("\nGO\n\n", expected) + "\nGO\n");
            Assert.Fail($"deploy/synapse/dedicated-pool.sql differs from the sink's T-SQL (TSqlDialect + SinkModel); expected batches in {regenerated}. " +
                $"First difference: {actual.Zip(expected.Select(Normalize)).FirstOrDefault(p => p.First != p.Second)}; {actual.Count} batches vs {expected.Count}.");
        }
    }

    [Fact]
    public void Every_merge_target_is_distributed_as_the_sink_declares()
    {
        var script = File.ReadAllText(Repo.PathOf("deploy", "synapse", "dedicated-pool.sql"));
        foreach (var table in SinkModel.Tables)
        {
            var create = Batches(script).Single(b => b.Contains($"CREATE TABLE [baloyi].[{table.Name}]", StringComparison.Ordinal));
            var distribution = table.Distribution switch
            {
                HashDistribution hash => $"HASH([{hash.Column}])",
                ReplicateDistribution => "REPLICATE",
                _ => "ROUND_ROBIN",
            };
            Assert.Contains($"DISTRIBUTION = {distribution}", create, StringComparison.Ordinal);
            foreach (var column in table.TargetColumns)
            {
                Assert.Contains($"[{column.Name}] {Synapse.TypeName(column, table)} {(column.Nullable ? "NULL" : "NOT NULL")}", create, StringComparison.Ordinal);
            }
        }
    }

    public static TheoryData<string> GoldTableNames()
    {
        var data = new TheoryData<string>();
        foreach (var table in GoldTables.Business)
        {
            data.Add(table.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GoldTableNames))]
    public void The_serverless_view_reads_the_current_state_gold_delta_table_with_its_columns(string name)
    {
        var gold = GoldTables.Business.Single(t => t.Name == name);
        var script = File.ReadAllText(Repo.PathOf("deploy", "synapse", "serverless-gold.sql"));
        var view = Batches(script).SingleOrDefault(b => b.Contains($"VIEW [gold].[{name}] AS", StringComparison.Ordinal));
        Assert.False(view is null, $"serverless-gold.sql has no view [gold].[{name}]");
        Assert.Contains($"BULK '{GoldStore.TablePath(new AggregatorOptions().GoldRoot, gold)}/'", view, StringComparison.Ordinal);
        Assert.Contains("FORMAT = 'DELTA'", view, StringComparison.Ordinal);

        // The WITH clause: every gold column, in order, with the pool's type for it.
        var with = WithClause().Match(view!);
        Assert.True(with.Success, $"[gold].[{name}] has no WITH (...) column list");
        var declared = ColumnSeparator().Split(with.Groups[1].Value).Select(Normalize).ToList();
        var expected = gold.Columns.Select(c => $"[{c.Name}] {ServerlessType(c)}").ToList();
        Assert.Equal(expected, declared);

        // The current-state table holds one row per key already: the view reads it as it is, and never the change tables.
        Assert.DoesNotContain("ROW_NUMBER", view, StringComparison.Ordinal);
        Assert.DoesNotContain($"/{GoldTables.ChangesFolder}/", view, StringComparison.Ordinal);
    }

    /// <summary>The serverless pool reads Parquet/Delta strings as UTF-8 VARCHAR; everything else as the dedicated pool's type.</summary>
    private static string ServerlessType(ColumnSchema column) => column.Type == ColumnType.String
        ? "VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8"
        : Synapse.TypeName(column);

    /// <summary>The batches of a script: split at GO lines, comment lines dropped, empty batches skipped.</summary>
    internal static IEnumerable<string> Batches(string script) =>
        GoLine().Split(script)
            .Select(b => string.Join('\n', b.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim())
            .Where(b => b.Length > 0);

    private static string Normalize(string sql) => Whitespace().Replace(sql, " ").Trim();

    [GeneratedRegex(@"(?im)^\s*GO\s*$")]
    private static partial Regex GoLine();

    [GeneratedRegex(@",\s*(?=\[)")]
    private static partial Regex ColumnSeparator();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\)\s*WITH\s*\(([^;]*?)\)\s*AS\s*\[?r\]?", RegexOptions.Singleline)]
    private static partial Regex WithClause();
}
