namespace BaloyiBank.DuckDb.Tests;

internal static class TestExtensions
{
    /// <summary>The current row's values, as <see cref="DuckDbResult.GetValue"/> gives them.</summary>
    public static object?[] ReadAllCurrent(this DuckDbResult result) =>
        [.. Enumerable.Range(0, result.ColumnCount).Select(result.GetValue)];
}
