using System.Text;

namespace BaloyiBank.DuckDb;

/// <summary>
/// A DuckDB operation failed. <see cref="Exception.Message"/> reads, for an operator:
/// <c>DuckDB query failed: Catalog Error: Table with name nope does not exist! … SQL: SELECT * FROM nope</c>.
/// </summary>
public sealed class DuckDbException : Exception
{
    private const int MaxSqlLength = 500;

    public DuckDbException()
    {
    }

    public DuckDbException(string message)
        : base(message)
    {
    }

    public DuckDbException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal DuckDbException(string operation, string? duckDbMessage, string? sql, DuckDbErrorType errorType = DuckDbErrorType.Invalid, Exception? innerException = null)
        : base(Format(operation, duckDbMessage, sql), innerException)
    {
        Operation = operation;
        DuckDbMessage = duckDbMessage;
        Sql = Truncate(sql);
        ErrorType = errorType;
    }

    /// <summary>What was being done: open, connect, query, prepare, bind, execute, append, flush, close.</summary>
    public string? Operation { get; }

    /// <summary>DuckDB's own error text, when DuckDB reported one (null for this library's own checks).</summary>
    public string? DuckDbMessage { get; }

    /// <summary>The statement involved, cut to 500 characters.</summary>
    public string? Sql { get; }

    /// <summary>DuckDB's error category, <see cref="DuckDbErrorType.Invalid"/> when unknown.</summary>
    public DuckDbErrorType ErrorType { get; }

    private static string Format(string operation, string? duckDbMessage, string? sql)
    {
        var text = new StringBuilder("DuckDB ").Append(operation).Append(" failed: ")
            .Append(string.IsNullOrWhiteSpace(duckDbMessage) ? "(DuckDB gave no message)" : duckDbMessage.TrimEnd());
        if (Truncate(sql) is { } shown)
        {
            text.Append(" SQL: ").Append(shown);
        }

        return text.ToString();
    }

    private static string? Truncate(string? sql)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            return null;
        }

        var trimmed = sql.Trim();
        return trimmed.Length <= MaxSqlLength ? trimmed : string.Concat(trimmed.AsSpan(0, MaxSqlLength), "…");
    }
}
