using System.Diagnostics;

namespace BaloyiBank.Delta;

/// <summary>
/// The lake writes' spans (ActivitySource <c>BaloyiBank.Delta</c>): <c>write {table}</c> for a set of data files
/// (encode and upload) and <c>commit {table}</c> for a commit to the table's log, each with the table, the files and
/// their bytes. A recorded commit span writes its own W3C <c>traceparent</c> into the commit's commitInfo, so whoever
/// later reads that commit (the aggregator from silver, the sink from gold) links its span to it, message or not.
/// </summary>
public static class DeltaTelemetry
{
    public const string Name = "BaloyiBank.Delta";

    public static ActivitySource Source { get; } = new(Name);

    internal static Activity? StartWrite(DeltaTable table)
    {
        var span = Source.StartActivity($"write {table.Path}", ActivityKind.Internal);
        span?.SetTag("baloyibank.delta.table", table.Path);
        return span;
    }

    internal static void Written(Activity? span, IReadOnlyList<AddFile> adds)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("baloyibank.delta.files", adds.Count);
        span.SetTag("baloyibank.delta.bytes", adds.Sum(a => a.Size));
    }

    internal static Activity? StartCommit(DeltaTable table, DeltaCommit commit)
    {
        var span = Source.StartActivity($"commit {table.Path}", ActivityKind.Internal);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("baloyibank.delta.table", table.Path);
            span.SetTag("baloyibank.delta.operation", commit.Operation);
            span.SetTag("baloyibank.delta.files", commit.Adds.Count);
            span.SetTag("baloyibank.delta.bytes", commit.Adds.Sum(a => a.Size));
            span.SetTag("baloyibank.delta.removed_files", commit.Removes.Count);
        }

        return span;
    }

    internal static void Committed(Activity? span, DeltaCommitResult result)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("baloyibank.delta.version", result.Version);
        span.SetTag("baloyibank.delta.status", result.Status == DeltaCommitStatus.Committed ? "committed" : "already_committed");
        span.SetTag("baloyibank.delta.attempts", result.Attempts);
    }

    /// <summary>The W3C traceparent of a recorded span (null when nobody records it: nothing downstream could find it).</summary>
    internal static string? TraceParentOf(Activity? span) =>
        span is { Recorded: true, IdFormat: ActivityIdFormat.W3C } ? span.Id : null;
}
