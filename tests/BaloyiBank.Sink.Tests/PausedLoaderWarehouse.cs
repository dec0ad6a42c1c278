using BaloyiBank.Delta;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// A real warehouse whose next load waits at the door until <see cref="Resume"/>: a simulated stop-the-world pause of
/// its loader (GC, network, VM freeze) after it read the watermark and built the load, before the load reaches the
/// warehouse. Everything else, and the load itself once resumed, goes to the real warehouse. Shared: never disposes it.
/// </summary>
internal sealed class PausedLoaderWarehouse(IWarehouse inner) : IWarehouse
{
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _armed = 1;

    /// <summary>Completes when the paused load arrives (with the load it carries).</summary>
    public Task Paused => _paused.Task;

    public WarehouseLoad? PausedLoad { get; private set; }

    public void Resume() => _resume.TrySetResult();

    public WarehouseEngine Engine => inner.Engine;

    public string Schema => inner.Schema;

    public async Task<WarehouseLoadResult> LoadAsync(WarehouseLoad load, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            PausedLoad = load;
            _paused.TrySetResult();
            await _resume.Task.WaitAsync(cancellationToken);
        }

        return await inner.LoadAsync(load, cancellationToken);
    }

    public Task<SchemaEnsureResult> EnsureSchemaAsync(WarehouseModel model, CancellationToken cancellationToken = default) => inner.EnsureSchemaAsync(model, cancellationToken);

    public Task<WarehouseWatermark?> ReadWatermarkAsync(string pipeline, string table, CancellationToken cancellationToken = default) => inner.ReadWatermarkAsync(pipeline, table, cancellationToken);

    public Task<long> ExportAsync(TableSchema relation, string parquetPath, CancellationToken cancellationToken = default) => inner.ExportAsync(relation, parquetPath, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
