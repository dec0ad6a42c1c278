using BaloyiBank.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using BaloyiBank.Lake.RaceChild;

namespace BaloyiBank.Lake.Tests;

/// <summary>
/// What every <see cref="ILakeStore"/> promises. Each implementation (folder, Azurite, ADLS) subclasses
/// this and returns a fresh, empty store from <see cref="CreateStoreAsync"/>.
/// </summary>
public abstract class LakeStoreContract
{
    protected abstract Task<ILakeStore> CreateStoreAsync();

    /// <summary>
    /// How a child process (BaloyiBank.Lake.RaceChild: <c>root [prefix]</c>) opens the lake of <paramref name="store"/>,
    /// one made by <see cref="CreateStoreAsync"/>, as a store of its own.
    /// </summary>
    protected abstract Task<IReadOnlyList<string>> ChildLakeAsync(ILakeStore store);

    /// <summary>How long children may take to finish their race (a local folder is quick, an emulator over HTTP less so).</summary>
    protected virtual TimeSpan ChildTimeout => TimeSpan.FromMinutes(2);

    [Fact]
    public async Task PutIfAbsent_race_of_4_processes_has_exactly_one_winner_per_name()
    {
        const int Racers = 4;
        const int Names = 40;
        var store = await CreateStoreAsync();
        var lake = await ChildLakeAsync(store);
        var children = Enumerable.Range(0, Racers).Select(r => StartRaceChild(lake, Names, $"p{r}")).ToList();
        try
        {
            foreach (var child in children)
            {
                Assert.Equal("ready", await child.StandardOutput.ReadLineAsync());
            }

            // Released together, so their put-if-absents collide rather than run one after another.
            foreach (var child in children)
            {
                await child.StandardInput.WriteLineAsync("go");
                await child.StandardInput.FlushAsync();
            }

            var outputs = await Task.WhenAll(children.Select(c => c.StandardOutput.ReadToEndAsync()));
            foreach (var child in children)
            {
                await child.WaitForExitAsync().WaitAsync(ChildTimeout);
                Assert.Equal(0, child.ExitCode);
            }

            for (var i = 0; i < Names; i++)
            {
                var path = RaceNames.Path(i);
                var winners = Enumerable.Range(0, Racers).Where(r => outputs[r].Contains($"{path} Created", StringComparison.Ordinal)).ToList();
                Assert.Single(winners);
                Assert.All(outputs, o => Assert.Contains($"{path} ", o, StringComparison.Ordinal));
                Assert.Equal(RaceNames.Content($"p{winners[0]}", i), Encoding.UTF8.GetString((await store.GetAsync(path, Ct))!));
            }

            Assert.Equal(Names, await store.ListAsync("race/", Ct).CountAsync());
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    child.Kill();
                }

                child.Dispose();
            }
        }
    }

    private static Process StartRaceChild(IReadOnlyList<string> lake, int names, string racer) =>
        ChildDotnet.Start("BaloyiBank.Lake.RaceChild", [lake[0], names.ToString(CultureInfo.InvariantCulture), racer, .. lake.Skip(1)], redirectInput: true);

    private static CancellationToken Ct => CancellationToken.None;

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(5 * 1024 * 1024)]
    public async Task Put_then_get_returns_the_same_bytes(int size)
    {
        var store = await CreateStoreAsync();
        var content = Bytes(size, seed: size);

        await store.PutAsync("bronze/raw/part-0.bin", content, Ct);

        Assert.Equal(content, await store.GetAsync("bronze/raw/part-0.bin", Ct));
        Assert.Equal(size, (await store.GetInfoAsync("bronze/raw/part-0.bin", Ct))!.Size);
    }

    [Fact]
    public async Task Put_replaces_an_existing_object()
    {
        var store = await CreateStoreAsync();

        await store.PutAsync("gold/balances/state.json", Encoding.UTF8.GetBytes("first, longer content"), Ct);
        await store.PutAsync("gold/balances/state.json", Encoding.UTF8.GetBytes("second"), Ct);

        Assert.Equal("second", Encoding.UTF8.GetString((await store.GetAsync("gold/balances/state.json", Ct))!));
    }

    [Fact]
    public async Task PutIfAbsent_creates_once_then_keeps_the_first_writers_bytes()
    {
        var store = await CreateStoreAsync();
        const string commit = "silver/transactions/_delta_log/00000000000000000000.json";

        var first = await store.PutIfAbsentAsync(commit, Encoding.UTF8.GetBytes("first"), Ct);
        var second = await store.PutIfAbsentAsync(commit, Encoding.UTF8.GetBytes("second"), Ct);

        Assert.Equal(PutOutcome.Created, first);
        Assert.Equal(PutOutcome.AlreadyExists, second);
        Assert.Equal("first", Encoding.UTF8.GetString((await store.GetAsync(commit, Ct))!));
    }

    [Fact]
    public async Task PutIfAbsent_race_of_16_threads_has_exactly_one_winner_whose_bytes_stay()
    {
        const int Writers = 16;
        var store = await CreateStoreAsync();

        for (var n = 0; n < 50; n++)
        {
            var path = $"silver/accounts/_delta_log/{n:D20}.json";
            var outcomes = await OnThreads(Writers, w => store.PutIfAbsentAsync(path, Encoding.UTF8.GetBytes($"writer {w} of {path}")));

            var winners = Enumerable.Range(0, Writers).Where(w => outcomes[w] == PutOutcome.Created).ToList();
            Assert.Single(winners);
            Assert.Equal($"writer {winners[0]} of {path}", Encoding.UTF8.GetString((await store.GetAsync(path, Ct))!));
        }
    }

    [Fact]
    public async Task List_returns_nested_paths_under_a_prefix_in_ordinal_order()
    {
        var store = await CreateStoreAsync();
        // '-' < '.' < '/' < '0' < 'A' < '_' < 'a': a per-folder sort by plain names would get these wrong.
        string[] paths =
        [
            "t/a-b", "t/a.txt", "t/a/x", "t/a/y/z", "t/a0", "t/B", "t/_delta_log/00000000000000000000.json",
            "t/_delta_log/00000000000000000001.json", "t/_delta_log/00000000000000000010.json",
            "t/_delta_log/_last_checkpoint", "t/.hidden", "u/outside",
        ];
        foreach (var path in paths.Reverse())
        {
            await store.PutAsync(path, Encoding.UTF8.GetBytes(path), Ct);
        }

        var all = await Paths(store, "");
        var underT = await Paths(store, "t/");
        var midName = await Paths(store, "t/_delta_log/0000");
        var midFolderName = await Paths(store, "t/a");

        Assert.Equal(paths.Order(StringComparer.Ordinal), all);
        Assert.Equal(paths.Where(p => p.StartsWith("t/", StringComparison.Ordinal)).Order(StringComparer.Ordinal), underT);
        Assert.Equal(
            ["t/_delta_log/00000000000000000000.json", "t/_delta_log/00000000000000000001.json", "t/_delta_log/00000000000000000010.json"],
            midName);
        Assert.Equal(["t/a-b", "t/a.txt", "t/a/x", "t/a/y/z", "t/a0"], midFolderName);
        Assert.Empty(await Paths(store, "nothing/here/"));
    }

    [Fact]
    public async Task List_pages_through_1200_objects_in_order()
    {
        var store = await CreateStoreAsync();
        var paths = Enumerable.Range(0, 1_200).Select(i => $"quarantine/batch-{i * 7919 % 1_200:D5}.json").ToList();
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct },
            async (path, ct) => await store.PutAsync(path, Encoding.UTF8.GetBytes(path), ct));

        var listed = await store.ListAsync("quarantine/", Ct).ToListAsync(Ct);

        Assert.Equal(paths.Order(StringComparer.Ordinal), listed.Select(o => o.Path));
        Assert.All(listed, o => Assert.Equal(Encoding.UTF8.GetByteCount(o.Path), o.Size));
        Assert.Equal(100, (await Paths(store, "quarantine/batch-011")).Count);
    }

    [Fact]
    public async Task List_never_shows_a_write_in_flight()
    {
        var store = await CreateStoreAsync();
        var expected = Enumerable.Range(0, 200).Select(i => $"bronze/live/{i:D4}.bin").ToHashSet();
        var writing = Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct },
            async (path, ct) => await store.PutAsync(path, Bytes(64 * 1024, path.Length), ct));

        var seen = new HashSet<string>();
        while (!writing.IsCompleted)
        {
            seen.UnionWith(await Paths(store, "bronze/live/"));
        }

        await writing;
        seen.UnionWith(await Paths(store, "bronze/live/"));
        Assert.Subset(expected, seen);
        Assert.Equal(expected.Count, seen.Count);
    }

    [Fact]
    public async Task GetInfo_reports_size_and_an_etag_that_changes_on_every_write()
    {
        var store = await CreateStoreAsync();
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);

        await store.PutAsync("gold/positions/p.json", Encoding.UTF8.GetBytes("0123456789"), Ct);
        var first = await store.GetInfoAsync("gold/positions/p.json", Ct);
        await store.PutAsync("gold/positions/p.json", Encoding.UTF8.GetBytes("9876543210"), Ct);
        var second = await store.GetInfoAsync("gold/positions/p.json", Ct);

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal("gold/positions/p.json", second.Path);
        Assert.Equal(10, second.Size);
        Assert.InRange(second.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.NotEqual(first.ETag, second.ETag);
        var listed = Assert.Single(await store.ListAsync("gold/positions/", Ct).ToListAsync(Ct));
        Assert.Equal(second.ETag, listed.ETag);
    }

    [Fact]
    public async Task PutIfMatch_replaces_only_the_version_it_names()
    {
        var store = await CreateStoreAsync();
        const string Path = "silver/_ownership/cleansing/p0000.json";
        Assert.Equal(PutOutcome.Created, await store.PutIfAbsentAsync(Path, Encoding.UTF8.GetBytes("v1"), Ct));
        var first = (await store.GetInfoAsync(Path, Ct))!.ETag;

        Assert.True(await store.PutIfMatchAsync(Path, Encoding.UTF8.GetBytes("v2"), first, Ct));
        var second = (await store.GetInfoAsync(Path, Ct))!.ETag;
        Assert.NotEqual(first, second);
        Assert.False(await store.PutIfMatchAsync(Path, Encoding.UTF8.GetBytes("v3 from a stale reader"), first, Ct));
        Assert.Equal("v2", Encoding.UTF8.GetString((await store.GetAsync(Path, Ct))!));
        Assert.Equal(second, Assert.Single(await store.ListAsync("silver/_ownership/", Ct).ToListAsync(Ct)).ETag);

        Assert.False(await store.PutIfMatchAsync("silver/_ownership/cleansing/p0001.json", Encoding.UTF8.GetBytes("v1"), first, Ct));
        Assert.Null(await store.GetInfoAsync("silver/_ownership/cleansing/p0001.json", Ct));
    }

    [Fact]
    public async Task PutIfMatch_race_of_16_threads_on_one_version_has_exactly_one_winner_whose_bytes_stay()
    {
        const int Writers = 16;
        var store = await CreateStoreAsync();
        const string Path = "silver/_ownership/cleansing/p0003.json";
        await store.PutAsync(Path, Encoding.UTF8.GetBytes("round -1"), Ct);

        for (var round = 0; round < 20; round++)
        {
            var etag = (await store.GetInfoAsync(Path, Ct))!.ETag;
            var r = round;
            var outcomes = await OnThreads(Writers, w => store.PutIfMatchAsync(Path, Encoding.UTF8.GetBytes($"round {r} writer {w}"), etag));

            var winners = Enumerable.Range(0, Writers).Where(w => outcomes[w]).ToList();
            Assert.Single(winners);
            Assert.Equal($"round {round} writer {winners[0]}", Encoding.UTF8.GetString((await store.GetAsync(Path, Ct))!));
        }
    }

    [Fact]
    public async Task Delete_removes_an_object_once()
    {
        var store = await CreateStoreAsync();
        await store.PutAsync("silver/orphans/part-7.parquet", Bytes(100, 7), Ct);

        Assert.True(await store.DeleteAsync("silver/orphans/part-7.parquet", Ct));
        Assert.False(await store.DeleteAsync("silver/orphans/part-7.parquet", Ct));
        Assert.Null(await store.GetAsync("silver/orphans/part-7.parquet", Ct));
        Assert.Empty(await Paths(store, "silver/orphans/"));
    }

    [Fact]
    public async Task Missing_objects_read_as_null_or_false()
    {
        var store = await CreateStoreAsync();
        await store.PutAsync("x/y/z.bin", Bytes(3, 3), Ct);
        var local = Path.Join(Path.GetTempPath(), "lake-missing-" + Guid.NewGuid().ToString("N"));

        // Missing names, and names that are only a prefix of other objects (folders, on disk).
        foreach (var path in new[] { "nope.json", "x/nope", "x/y", "x", "x/y/z.bin/deeper" })
        {
            Assert.Null(await store.GetAsync(path, Ct));
            Assert.Null(await store.GetInfoAsync(path, Ct));
            Assert.False(await store.GetFileAsync(path, local, Ct));
            Assert.False(await store.DeleteAsync(path, Ct));
        }

        Assert.False(File.Exists(local));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/absolute")]
    [InlineData("trailing/")]
    [InlineData("a//b")]
    [InlineData("./a")]
    [InlineData("a/./b")]
    [InlineData("a/../b")]
    [InlineData("..")]
    [InlineData(@"a\b")]
    public async Task Invalid_paths_are_rejected(string path)
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutAsync(path, Bytes(1, 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutIfAbsentAsync(path, Bytes(1, 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetAsync(path, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetInfoAsync(path, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.DeleteAsync(path, Ct));
    }

    [Theory]
    [InlineData("/absolute")]
    [InlineData("a//")]
    [InlineData(@"a\")]
    [InlineData("a/../")]
    public async Task Invalid_prefixes_are_rejected(string prefix)
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.ListAsync(prefix, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task PutFile_and_GetFile_move_large_files()
    {
        var store = await CreateStoreAsync();
        var folder = Directory.CreateTempSubdirectory("lake-files-");
        try
        {
            var upload = Path.Join(folder.FullName, "upload.parquet");
            var download = Path.Join(folder.FullName, "download.parquet");
            var content = Bytes(3 * 1024 * 1024 + 5, 42);
            await File.WriteAllBytesAsync(upload, content, Ct);

            await store.PutFileAsync("silver/transactions/p=3/part-00000000000000000100.parquet", upload, Ct);
            var found = await store.GetFileAsync("silver/transactions/p=3/part-00000000000000000100.parquet", download, Ct);

            Assert.True(found);
            Assert.Equal(content, await File.ReadAllBytesAsync(download, Ct));
            Assert.Equal(content.Length, (await store.GetInfoAsync("silver/transactions/p=3/part-00000000000000000100.parquet", Ct))!.Size);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    protected static byte[] Bytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected static async Task<List<string>> Paths(ILakeStore store, string prefix) =>
        await store.ListAsync(prefix, Ct).Select(o => o.Path).ToListAsync(Ct);

    /// <summary>Runs <paramref name="count"/> calls on their own threads, released together, to force a real race.</summary>
    protected static Task<T[]> OnThreads<T>(int count, Func<int, Task<T>> call)
    {
        var results = new T[count];
        var failures = new Exception?[count];
        using var start = new Barrier(count);
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                results[i] = call(i).GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                failures[i] = e;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return failures.FirstOrDefault(f => f is not null) is { } failure ? Task.FromException<T[]>(failure) : Task.FromResult(results);
    }
}
