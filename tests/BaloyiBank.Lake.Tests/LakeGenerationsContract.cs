using System.Text;

namespace BaloyiBank.Lake.Tests;

/// <summary>
/// What <see cref="LakeGenerations"/> promises on any <see cref="ILakeStore"/>: generation 0 is the old layout, claims
/// never collide, a switch is seen whole or not at all, and a stale switch is refused. Each store subclasses this.
/// </summary>
public abstract class LakeGenerationsContract
{
    protected abstract Task<ILakeStore> CreateGenerationStoreAsync();

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_layer_without_generations_is_generation_0_at_its_own_folder()
    {
        var store = await CreateGenerationStoreAsync();
        await store.PutAsync("silver/transactions/_delta_log/00000000000000000000.json", "{}"u8.ToArray(), Ct);
        var live = await new LakeGenerations(store).LiveAsync("silver", Ct);
        Assert.Equal(new LakeGeneration("silver", 0), live);
        Assert.Equal("silver", live.Root);
        Assert.Equal("silver/g0003", LakeGenerations.RootOf("silver", 3));
    }

    [Fact]
    public async Task Claims_racing_get_distinct_numbers_above_the_live_one()
    {
        var store = await CreateGenerationStoreAsync();
        var generations = new LakeGenerations(store);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => generations.ClaimAsync("silver", $"builder {i}", Ct), Ct)));
        Assert.Equal(8, claims.Select(c => c.Number).Distinct().Count());
        Assert.All(claims, c => Assert.True(c.Number >= 1));
        Assert.Equal(0, (await generations.LiveAsync("silver", Ct)).Number);
        Assert.Equal(8, (await generations.PendingClaimsAsync("silver", Ct)).Count);
    }

    [Fact]
    public async Task A_switch_makes_the_claimed_generation_live_and_a_stale_switch_is_refused()
    {
        var store = await CreateGenerationStoreAsync();
        var generations = new LakeGenerations(store);
        var live = await generations.LiveAsync("silver", Ct);
        var first = await generations.ClaimAsync("silver", "first", Ct);
        var second = await generations.ClaimAsync("silver", "second", Ct);

        var switched = await generations.SwitchAsync(live, first.Number, "replay 1", Ct);
        Assert.Equal(first.Number, switched.Number);
        Assert.Equal($"silver/g{first.Number:D4}", (await generations.LiveAsync("silver", Ct)).Root);

        // The second builder still expects generation 0: someone switched since, so it must not win silently.
        var conflict = await Assert.ThrowsAsync<LakeGenerationConflictException>(() => generations.SwitchAsync(live, second.Number, "replay 2", Ct));
        Assert.Contains("no longer 0", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(first.Number, (await generations.LiveAsync("silver", Ct)).Number);

        var history = await generations.HistoryAsync("silver", Ct);
        Assert.Equal("replay 1", Assert.Single(history).Note);
        Assert.Equal(0, (await generations.LiveAsync("gold", Ct)).Number);
    }

    [Fact]
    public async Task A_reader_polling_during_switches_sees_each_generation_whole()
    {
        // Each generation holds two tables whose contents name it; a reader resolves once per poll and reads both
        // from that root. Switches happen meanwhile; every poll must see one generation's pair, never a mix.
        var store = await CreateGenerationStoreAsync();
        var generations = new LakeGenerations(store);
        await WriteGenerationAsync(store, "silver", 0);
        using var done = new CancellationTokenSource();
        var seen = new List<int>();
        var reader = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                var live = await generations.LiveAsync("silver", Ct);
                var a = Encoding.UTF8.GetString((await store.GetAsync($"{live.Root}/a/data", Ct))!);
                var b = Encoding.UTF8.GetString((await store.GetAsync($"{live.Root}/b/data", Ct))!);
                Assert.Equal(a, b);
                Assert.Equal(live.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), a);
                lock (seen)
                {
                    seen.Add(live.Number);
                }
            }
        }, Ct);

        for (var i = 0; i < 5; i++)
        {
            var expected = await generations.LiveAsync("silver", Ct);
            var claim = await generations.ClaimAsync("silver", "poll test", Ct);
            await WriteGenerationAsync(store, "silver", claim.Number);
            await generations.SwitchAsync(expected, claim.Number, "poll test", Ct);
            // Let the reader poll a few times on this generation before the next switch (or fail, which ends it).
            var polls = SeenCount(seen);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!reader.IsCompleted && SeenCount(seen) < polls + 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5, Ct);
            }
        }

        await done.CancelAsync();
        await reader;
        lock (seen)
        {
            // Generations only move forward for a reader, and it saw several of them.
            Assert.Equal(seen.Order(), seen);
            Assert.True(seen.Distinct().Count() >= 3, $"the reader saw generations {string.Join(",", seen.Distinct())}");
        }
    }

    private static int SeenCount(List<int> seen)
    {
        lock (seen)
        {
            return seen.Count;
        }
    }

    private static async Task WriteGenerationAsync(ILakeStore store, string layer, int generation)
    {
        var content = Encoding.UTF8.GetBytes(generation.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await store.PutAsync($"{LakeGenerations.RootOf(layer, generation)}/a/data", content, Ct);
        await store.PutAsync($"{LakeGenerations.RootOf(layer, generation)}/b/data", content, Ct);
    }
}

public sealed class FolderLakeGenerationsTests : LakeGenerationsContract, IDisposable
{
    private readonly List<string> _roots = [];

    protected override Task<ILakeStore> CreateGenerationStoreAsync()
    {
        var root = Directory.CreateTempSubdirectory("baloyi-lake-generations-").FullName;
        _roots.Add(root);
        return Task.FromResult<ILakeStore>(new FolderLakeStore(root));
    }

    public void Dispose()
    {
        foreach (var root in _roots)
        {
            Directory.Delete(root, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
