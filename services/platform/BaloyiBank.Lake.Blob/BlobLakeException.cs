namespace BaloyiBank.Lake.Blob;

/// <summary>
/// A blob lake operation failed: the message names the operation, the lake path, the container, the HTTP status
/// and the service's error code (or the connection problem after the retries), and what to do next. Never a key.
/// </summary>
public sealed class BlobLakeException : IOException
{
    public BlobLakeException()
    {
    }

    public BlobLakeException(string message)
        : base(message)
    {
    }

    public BlobLakeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal BlobLakeException(string message, string operation, string? lakePath, int status, string? errorCode, int attempts, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = operation;
        LakePath = lakePath;
        Status = status;
        ErrorCode = errorCode;
        Attempts = attempts;
    }

    /// <summary>The Blob REST operation, e.g. "Put Blob".</summary>
    public string Operation { get; } = "";

    /// <summary>The lake path concerned; null for container operations.</summary>
    public string? LakePath { get; }

    /// <summary>The HTTP status of the last attempt; 0 when no response arrived (connection failure, timeout).</summary>
    public int Status { get; }

    /// <summary>The service's x-ms-error-code, when it sent one.</summary>
    public string? ErrorCode { get; }

    /// <summary>How many times the request was sent (1 + retries).</summary>
    public int Attempts { get; }
}
