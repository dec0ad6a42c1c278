using System.Globalization;
using System.Text.Json;
using BaloyiBank.Lake;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cleansing;

/// <summary>One partition's ownership record in the lake: who reads it, until when, and how often it changed hands or was renewed.</summary>
/// <param name="Owner">The owning <see cref="CleansingOptions.InstanceId"/>; empty when released.</param>
/// <param name="ExpiresAt">Unix milliseconds after which anyone may claim the partition.</param>
/// <param name="Version">Counts every write of the record (claims and renewals).</param>
internal sealed record OwnershipRecord(string Owner, long ExpiresAt, long Version);

/// <summary>
/// Partition ownership kept in the lake, balanced the way the Azure Event Hubs processor balances its partitions:
/// one record per partition (<c>{SilverRoot}/_ownership/{ConsumerGroup}/p0003.json</c>: owner, expiry, version);
/// every <see cref="CleansingOptions.OwnershipRenewInterval"/> each process lists them, renews its own, claims
/// unowned or expired ones up to its fair share (⌈partitions / active processes⌉) and, when it has less than
/// ⌊partitions / active⌋ (or exactly that while someone holds more than the ceiling), steals one partition from the
/// process holding the most. Every write is conditional (put-if-absent for a new record, ETag-matched replace for an
/// existing one), so of two processes claiming a partition exactly one wins.
/// </summary>
/// <remarks>
/// Ownership decides who reads a partition; it does not make a stale owner's commit safe by itself (a process paused
/// past its expiry still believes it owns). That is the Delta commit's job: see <see cref="CleansingPipeline"/>'s fences.
/// </remarks>
internal sealed partial class PartitionOwnership(
    ILakeStore lake,
    CleansingOptions options,
    int partitionCount,
    TimeProvider time,
    CleansingTelemetry? telemetry,
    ILogger logger) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, DateTimeOffset> _held = [];
    private CancellationTokenSource _changed = new();

    public string InstanceId => options.InstanceId;

    /// <summary>The folder holding the records of this consumer group (below the resolved silver generation).</summary>
    public string Prefix => $"{options.SilverRoot.TrimEnd('/')}/_ownership/{options.ConsumerGroup}/";

    /// <summary>The partitions this process holds (renewed and not expired by its own clock), ascending.</summary>
    public IReadOnlyList<int> Owned
    {
        get
        {
            var now = time.GetUtcNow();
            lock (_gate)
            {
                return [.. _held.Where(h => now < h.Value).Select(h => h.Key).Order()];
            }
        }
    }

    /// <summary>Cancelled when <see cref="Owned"/> changes; take it again afterwards for the next change.</summary>
    public CancellationToken Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Token;
            }
        }
    }

    /// <summary>
    /// Whether this process holds <paramref name="partition"/> by its own clock: its last renewal succeeded and has
    /// not expired. Checked before a flush; the commit's fence covers a pause between this check and the commit.
    /// </summary>
    public bool Holds(int partition)
    {
        lock (_gate)
        {
            return _held.TryGetValue(partition, out var until) && time.GetUtcNow() < until;
        }
    }

    public string PathOf(int partition) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}p{partition:D4}.json");

    /// <summary>Balances every renew interval until cancelled; a failed round (a lake hiccup) is logged and the next one tries again.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.OwnershipRenewInterval, time);
        do
        {
            try
            {
                await BalanceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception failure) when (failure is not OperationCanceledException)
            {
                LogBalanceFailed(logger, options.InstanceId, Prefix, failure.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>One round: renew, claim, steal. True when the owned set changed.</summary>
    public async Task<bool> BalanceAsync(CancellationToken cancellationToken)
    {
        var records = await ReadAllAsync(cancellationToken).ConfigureAwait(false);
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        bool Live(Entry e) => e.Record is { Owner.Length: > 0 } r && r.ExpiresAt > nowMs;

        var held = new Dictionary<int, DateTimeOffset>();
        var changes = new List<(int Partition, string Change, string? From)>();
        var takers = new Dictionary<int, string>();

        // Renew our own (even a lapsed one nobody took yet: the fence keeps a lapse safe).
        foreach (var (partition, entry) in records.Where(r => r.Value.Record?.Owner == options.InstanceId))
        {
            var (renewed, owner) = await TryWriteAsync(partition, entry, cancellationToken).ConfigureAwait(false);
            if (renewed is { } until)
            {
                held[partition] = until;
            }
            else if (owner is not null)
            {
                takers[partition] = owner;
            }
        }

        var active = records.Values.Where(Live).Select(e => e.Record!.Owner).Append(options.InstanceId).Distinct(StringComparer.Ordinal).Count();
        var floor = partitionCount / active;
        var ceiling = (partitionCount + active - 1) / active;

        // Claim unowned or expired partitions up to the ceiling, lowest first.
        foreach (var partition in Enumerable.Range(0, partitionCount).Where(p => !held.ContainsKey(p) && (!records.TryGetValue(p, out var e) || !Live(e))))
        {
            if (held.Count >= ceiling)
            {
                break;
            }

            records.TryGetValue(partition, out var entry);
            if ((await TryWriteAsync(partition, entry, cancellationToken).ConfigureAwait(false)).Until is { } until)
            {
                held[partition] = until;
                changes.Add((partition, "claimed", entry?.Record is { Owner.Length: > 0 } previous && previous.Owner != options.InstanceId ? previous.Owner : null));
            }
        }

        // Steal one partition per round from the process holding the most, when below the fair share.
        var others = records.Where(r => Live(r.Value) && r.Value.Record!.Owner != options.InstanceId)
            .GroupBy(r => r.Value.Record!.Owner, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .FirstOrDefault();
        if (others is not null && (held.Count < floor ? others.Count() > floor : held.Count == floor && others.Count() > ceiling))
        {
            var (partition, entry) = others.ElementAt(Random.Shared.Next(others.Count()));
            if ((await TryWriteAsync(partition, entry, cancellationToken).ConfigureAwait(false)).Until is { } until)
            {
                held[partition] = until;
                changes.Add((partition, "stolen", entry.Record!.Owner));
            }
        }

        return Apply(held, changes, records, takers);
    }

    /// <summary>Graceful stop: expires this process's records now, so the others claim its partitions at their next round instead of after the expiry.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        var records = await ReadAllAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (partition, entry) in records.Where(r => r.Value.Record?.Owner == options.InstanceId))
        {
            // Expired at once; the owner stays named, so the next owner's log says whose partition it took.
            var released = new OwnershipRecord(options.InstanceId, 0, entry.Record!.Version + 1);
            if (await lake.PutIfMatchAsync(PathOf(partition), Serialize(released), entry.ETag, cancellationToken).ConfigureAwait(false))
            {
                Count(partition, "released");
                LogChanged(logger, options.InstanceId, partition, "released", "-");
            }
        }

        Apply([], [], records, [], quiet: true);
    }

    private bool Apply(Dictionary<int, DateTimeOffset> held, List<(int Partition, string Change, string? From)> changes, Dictionary<int, Entry> records,
        Dictionary<int, string> takers, bool quiet = false)
    {
        CancellationTokenSource? changed = null;
        lock (_gate)
        {
            foreach (var lost in _held.Keys.Where(p => !held.ContainsKey(p)))
            {
                var taker = takers.TryGetValue(lost, out var seen) && seen != options.InstanceId ? seen
                    : records.TryGetValue(lost, out var e) && e.Record is { Owner.Length: > 0 } r && r.Owner != options.InstanceId ? r.Owner : null;
                changes.Add((lost, "lost", taker));
            }

            var different = !held.Keys.Order().SequenceEqual(_held.Keys.Order());
            _held.Clear();
            foreach (var (partition, until) in held)
            {
                _held[partition] = until;
            }

            if (different)
            {
                changed = _changed;
                _changed = new CancellationTokenSource();
            }
        }

        foreach (var (partition, change, from) in changes.Where(c => !quiet || c.Change != "lost"))
        {
            Count(partition, change);
            LogChanged(logger, options.InstanceId, partition, change, from ?? "-");
        }

        // Not disposed: a run may still link to its token (the source owns no timer, so nothing leaks).
        changed?.Cancel();

        return changed is not null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _changed.Dispose();
        }
    }

    private void Count(int partition, string change) =>
        telemetry?.OwnershipChanges.Add(1, new KeyValuePair<string, object?>("partition", partition), new KeyValuePair<string, object?>("change", change));

    /// <summary>
    /// Writes this process's record for <paramref name="partition"/> over <paramref name="entry"/> (create when null);
    /// the instant until which it holds (measured from just before the write), or null when another process got there first
    /// (then the record's owner as found, for the log).
    /// </summary>
    private async Task<(DateTimeOffset? Until, string? Owner)> TryWriteAsync(int partition, Entry? entry, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + options.OwnershipExpiry;
        var record = new OwnershipRecord(options.InstanceId, until.ToUnixTimeMilliseconds(), (entry?.Record?.Version ?? 0) + 1);
        var bytes = Serialize(record);
        var written = entry is null
            ? await lake.PutIfAbsentAsync(PathOf(partition), bytes, cancellationToken).ConfigureAwait(false) == PutOutcome.Created
            : await lake.PutIfMatchAsync(PathOf(partition), bytes, entry.ETag, cancellationToken).ConfigureAwait(false);
        if (written)
        {
            return (until, null);
        }

        // A retried conditional write whose first answer was lost reads as a lost race although it landed: our exact record says so.
        var current = await lake.GetAsync(PathOf(partition), cancellationToken).ConfigureAwait(false);
        if (current is not null && current.AsSpan().SequenceEqual(bytes))
        {
            return (until, null);
        }

        try
        {
            return (null, current is null ? null : JsonSerializer.Deserialize(current, CleansingJsonContext.Default.OwnershipRecord)?.Owner);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>Every record with the ETag it was listed with; the bytes are read after the listing, so a replace in between only makes the ETag stale (the next write then fails, safely).</summary>
    private async Task<Dictionary<int, Entry>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var listed = new List<LakeObjectInfo>();
        await foreach (var info in lake.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            listed.Add(info);
        }

        var records = new Dictionary<int, Entry>();
        foreach (var info in listed)
        {
            var name = info.Path[Prefix.Length..];
            if (!name.StartsWith('p') || !name.EndsWith(".json", StringComparison.Ordinal)
                || !int.TryParse(name.AsSpan(1, name.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var partition) || partition >= partitionCount)
            {
                continue;
            }

            var bytes = await lake.GetAsync(info.Path, cancellationToken).ConfigureAwait(false);
            OwnershipRecord? record = null;
            try
            {
                record = bytes is null ? null : JsonSerializer.Deserialize(bytes, CleansingJsonContext.Default.OwnershipRecord);
            }
            catch (JsonException)
            {
                // An unreadable record counts as unowned; the next claim replaces it.
            }

            records[partition] = new Entry(info.ETag, record);
        }

        return records;
    }

    private static byte[] Serialize(OwnershipRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, CleansingJsonContext.Default.OwnershipRecord);

    private sealed record Entry(string ETag, OwnershipRecord? Record);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Cleansing instance {Instance}: partition {Partition} {Change} (other instance: {Other})")]
    private static partial void LogChanged(ILogger logger, string instance, int partition, string change, string other);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Cleansing instance {Instance} could not balance the partition ownership in {Prefix} ({Reason}); it keeps what it holds until the expiry and tries again")]
    private static partial void LogBalanceFailed(ILogger logger, string instance, string prefix, string reason);
}
