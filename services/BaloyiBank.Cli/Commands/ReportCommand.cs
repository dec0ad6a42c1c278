using System.CommandLine;
using BaloyiBank.Cli.Report;
using BaloyiBank.Sink;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// <c>baloyi report</c>: serves the dashboards page on 127.0.0.1 over the warehouse's reporting views. The embedded
/// DuckDB warehouse is opened read-only, which DuckDB allows only while no other process has the file open for
/// writing: run the report after <c>baloyi run</c> stops (or use PostgreSQL, which has no such lock).
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var data = CommonOptions.ExistingData(DataAccess.Read);
        var warehouse = CommonOptions.Warehouse("The warehouse to read: duckdb (default, <data>/warehouse.duckdb, opened read-only) or the postgres://… URL run loaded.");
        var port = CommonOptions.PortWithDefault("--port", "The port the page is served on at 127.0.0.1.", 65535, 8085);
        var command = new Command("report", "Serve the dashboards (trends, categories, a map of amounts by place, top customers, filters) at http://127.0.0.1:<port>/ from the warehouse's reporting views.")
        {
            data, warehouse, port,
        };
        command.SetAction(async (parse, ct) =>
        {
            var choice = parse.GetValue(warehouse);
            ReportingQueries queries;
            try
            {
                queries = choice is null or "duckdb"
                    ? ReportingQueries.OpenDuckDb(Path.Combine(parse.GetValue(data)!.FullName, "warehouse.duckdb"))
                    : ReportingQueries.OpenPostgres(choice);
            }
            catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or Npgsql.NpgsqlException)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 1;
            }

            using (queries)
            {
                ReportServer server;
                try
                {
                    server = await ReportServer.StartAsync(queries, parse.GetValue(port), ct);
                }
                catch (Exception e) when (e is InvalidOperationException or IOException)
                {
                    await Console.Error.WriteLineAsync(e.Message);
                    return 1;
                }

                await using (server)
                {
                    await Console.Out.WriteLineAsync($"Report at {server.Address} (reading {(choice is null or "duckdb" ? "the DuckDB warehouse read-only" : "PostgreSQL")}); Ctrl-C to stop.");
                    await Console.Out.FlushAsync(ct);
                    try
                    {
                        await Task.Delay(Timeout.Infinite, ct);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }

            return 0;
        });
        return command;
    }
}
