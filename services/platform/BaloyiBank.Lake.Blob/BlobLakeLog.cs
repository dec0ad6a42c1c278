using Microsoft.Extensions.Logging;

namespace BaloyiBank.Lake.Blob;

/// <summary>The blob lake's log events. Paths and the container URI only: never a key, a token or a SAS.</summary>
internal static partial class BlobLakeLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Blob lake: created container {Container}")]
    public static partial void ContainerCreated(ILogger logger, string container);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Blob lake: retrying {Operation} of {LakePath} (attempt {Attempt}) after {Problem}")]
    public static partial void Retrying(ILogger logger, string operation, string lakePath, int attempt, string problem);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Blob lake: put-if-absent of {LakePath} was retried and then found the blob; it holds this writer's bytes, so it counts as created")]
    public static partial void RetriedCreateWasOurs(ILogger logger, string lakePath);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Blob lake: download of {LakePath} broke at byte {Offset} ({Problem}); resuming (attempt {Attempt})")]
    public static partial void ResumingDownload(ILogger logger, string lakePath, long offset, string problem, int attempt);
}
