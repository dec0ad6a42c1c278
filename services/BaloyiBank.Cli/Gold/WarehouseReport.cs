using BaloyiBank.Lake;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Cli.Gold;

/// <summary>The warehouse after a run: loads to catch up, rows merged, and every table compared with gold.</summary>
public sealed record WarehouseReport(string Kind, int LoadsThisRun, long Inserted, long Updated, SinkVerificationReport Verification)
{
    /// <summary>
    /// Loads what gold committed after the warehouse's watermark (the in-process sink may be an interval behind
    /// when the run ends), then compares every warehouse table with gold's current rows.
    /// </summary>
    public static async Task<WarehouseReport> CatchUpAndVerifyAsync(ILakeStore lake, WarehouseOptions warehouseOptions, SinkOptions sinkOptions, string workFolder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(warehouseOptions);
        await using var warehouse = WarehouseFactory.Create(warehouseOptions);
        IReadOnlyList<SinkLoadResult> loads;
        using (var loader = new SinkLoader(lake, warehouse, sinkOptions))
        {
            loads = await loader.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        }

        var verification = await VerifyAsync(lake, warehouse, sinkOptions, workFolder, cancellationToken).ConfigureAwait(false);
        return new WarehouseReport(warehouseOptions.Kind, loads.Count, loads.Sum(l => l.Load.Inserted), loads.Sum(l => l.Load.Updated), verification);
    }

    public static async Task<SinkVerificationReport> VerifyAsync(ILakeStore lake, IWarehouse warehouse, SinkOptions sinkOptions, string workFolder, CancellationToken cancellationToken)
    {
        try
        {
            return await SinkVerifier.VerifyAsync(lake, warehouse, sinkOptions, workFolder, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(workFolder))
            {
                Directory.Delete(workFolder, recursive: true);
            }
        }
    }
}
