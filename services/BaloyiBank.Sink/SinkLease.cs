using System.Globalization;
using System.Text.Json;
using BaloyiBank.Lake;

namespace BaloyiBank.Sink;

/// <summary>
/// One loader per warehouse: a lease made of numbered lake objects <c>{folder}/lease-{generation}.json</c> holding
/// owner and expiry. Taking or renewing the lease is creating the next generation with PutIfAbsent, so of two
/// sinks racing for it exactly one wins; the latest generation says who holds it until when. A standby takes
/// over once the latest generation expired. Older generations are deleted by the holder.
/// </summary>
public sealed class SinkLease(ILakeStore lake, string folder, string owner, TimeSpan duration, TimeProvider? time = null)
{
    private const string Prefix = "lease-";
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly string _folder = folder.Trim('/');
    private long _held;

    public string Owner { get; } = owner;

    /// <summary>The holder and expiry last seen (null before the first look or when no lease exists).</summary>
    public SinkLeaseState? LastSeen { get; private set; }

    /// <summary>Whether this instance held the lease at its last acquire/renew.</summary>
    public bool IsHeld => Interlocked.Read(ref _held) != 0;

    /// <summary>Takes the lease when free or expired, renews it when held; false when another sink holds it.</summary>
    public async Task<bool> AcquireOrRenewAsync(CancellationToken cancellationToken = default)
    {
        var latest = await LatestAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        LastSeen = latest;
        if (latest is not null && latest.Owner != Owner && latest.ExpiresAt > now)
        {
            Interlocked.Exchange(ref _held, 0);
            return false;
        }

        var next = new SinkLeaseState((latest?.Generation ?? 0) + 1, Owner, now + duration);
        var created = await lake.PutIfAbsentAsync(PathOf(next.Generation), JsonSerializer.SerializeToUtf8Bytes(new LeaseDocument(next.Owner, next.ExpiresAt.ToUnixTimeMilliseconds())),
            cancellationToken).ConfigureAwait(false) == PutOutcome.Created;
        Interlocked.Exchange(ref _held, created ? 1 : 0);
        if (created)
        {
            LastSeen = next;
            if (latest is not null)
            {
                // Never the newest: a missing newest generation would let the numbering restart.
                await lake.DeleteAsync(PathOf(latest.Generation), cancellationToken).ConfigureAwait(false);
                if (latest.Generation > 1)
                {
                    await lake.DeleteAsync(PathOf(latest.Generation - 1), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return created;
    }

    /// <summary>Gives the lease up at once (a next generation that has already expired), so a standby need not wait.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (!IsHeld)
        {
            return;
        }

        Interlocked.Exchange(ref _held, 0);
        var latest = await LatestAsync(cancellationToken).ConfigureAwait(false);
        if (latest is null || latest.Owner != Owner)
        {
            return;
        }

        await lake.PutIfAbsentAsync(PathOf(latest.Generation + 1), JsonSerializer.SerializeToUtf8Bytes(new LeaseDocument(Owner, 0)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The latest lease generation, or null when there is none.</summary>
    public async Task<SinkLeaseState?> LatestAsync(CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            long latest = 0;
            await foreach (var info in lake.ListAsync($"{_folder}/{Prefix}", cancellationToken).ConfigureAwait(false))
            {
                var name = info.Path[(info.Path.LastIndexOf('/') + 1)..];
                if (name.EndsWith(".json", StringComparison.Ordinal)
                    && long.TryParse(name[Prefix.Length..^5], NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
                {
                    latest = Math.Max(latest, generation);
                }
            }

            if (latest == 0)
            {
                return null;
            }

            var bytes = await lake.GetAsync(PathOf(latest), cancellationToken).ConfigureAwait(false);
            if (bytes is not null)
            {
                var document = JsonSerializer.Deserialize<LeaseDocument>(bytes)
                    ?? throw new InvalidDataException($"Lease {PathOf(latest)} in {lake.Location} is not a lease document.");
                return new SinkLeaseState(latest, document.Owner, DateTimeOffset.FromUnixTimeMilliseconds(document.ExpiresAtMs));
            }

            // Deleted between list and read: the holder renewed, so a newer generation exists; list again.
        }

        throw new IOException($"The sink lease in {lake.Location}/{_folder} changed under every read (10 attempts); try again.");
    }

    private string PathOf(long generation) => string.Create(CultureInfo.InvariantCulture, $"{_folder}/{Prefix}{generation:D12}.json");

    private sealed record LeaseDocument(string Owner, long ExpiresAtMs);
}

/// <summary>One lease generation: who holds it until when.</summary>
public sealed record SinkLeaseState(long Generation, string Owner, DateTimeOffset ExpiresAt);
