using BaloyiBank.Delta;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Sink.Tests;

/// <summary>One real warehouse shared by two sink hosts in a test (DuckDB allows one writer per file): the hosts must not dispose it.</summary>
internal sealed class NonDisposingWarehouse(IWarehouse inner) : IWarehouse
{
    public WarehouseEngine Engine => inner.Engine;
    public string Schema => inner.Schema;
    public Task<SchemaEnsureResult> EnsureSchemaAsync(WarehouseModel model, CancellationToken cancellationToken = default) => inner.EnsureSchemaAsync(model, cancellationToken);
    public Task<WarehouseLoadResult> LoadAsync(WarehouseLoad load, CancellationToken cancellationToken = default) => inner.LoadAsync(load, cancellationToken);
    public Task<WarehouseWatermark?> ReadWatermarkAsync(string pipeline, string table, CancellationToken cancellationToken = default) => inner.ReadWatermarkAsync(pipeline, table, cancellationToken);
    public Task<long> ExportAsync(TableSchema relation, string parquetPath, CancellationToken cancellationToken = default) => inner.ExportAsync(relation, parquetPath, cancellationToken);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
