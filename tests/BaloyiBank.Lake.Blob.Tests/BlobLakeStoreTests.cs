using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Storage;
using Azure.Storage.Sas;
using BaloyiBank.Lake.RaceChild;
using Xunit.Abstractions;

namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>What the blob store does beyond the contract, against a real Azurite.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class BlobLakeStoreTests(AzuriteServer azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<BlobLakeStore> _stores = [];

    public Task InitializeAsync()
    {
        output.WriteLine($"Azurite: {azurite.Origin}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DeleteContainerAsync();
            store.Dispose();
        }
    }

    [Fact]
    public async Task PutIfAbsent_race_of_64_tasks_has_exactly_one_winner_per_name()
    {
        var store = NewStore("race-tasks");
        await store.CreateContainerIfMissingAsync();
        const int Racers = 64;

        for (var n = 0; n < 20; n++)
        {
            var path = $"silver/t/_delta_log/{n:D20}.json";
            using var start = new ManualResetEventSlim();
            var racers = Enumerable.Range(0, Racers).Select(r => Task.Run(async () =>
            {
                start.Wait();
                return await store.PutIfAbsentAsync(path, Encoding.UTF8.GetBytes($"racer {r}"));
            })).ToArray();
            start.Set();
            var outcomes = await Task.WhenAll(racers);

            var winner = Assert.Single(Enumerable.Range(0, Racers), r => outcomes[r] == PutOutcome.Created);
            Assert.Equal($"racer {winner}", Encoding.UTF8.GetString((await store.GetAsync(path))!));
        }
    }

    [Fact]
    public async Task Listing_5300_blobs_follows_the_continuation_marker_across_pages()
    {
        var store = NewStore("list-many");
        var paths = Enumerable.Range(0, 5_300).Select(i => $"bronze/bank_events/part-{(i * 7_919) % 5_300:D6}.json").ToList();
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (path, ct) => await store.PutAsync(path, Encoding.UTF8.GetBytes(path), ct));
        await store.PutAsync("bronze/other/x.json", "{}"u8.ToArray());
        var pagesBefore = store.ListPagesRequested;

        var listed = await store.ListAsync("bronze/bank_events/").ToListAsync();

        Assert.Equal(2, store.ListPagesRequested - pagesBefore);
        Assert.Equal(paths.Order(StringComparer.Ordinal), listed.Select(o => o.Path));
        Assert.All(listed, o => Assert.Equal(Encoding.UTF8.GetByteCount(o.Path), o.Size));
    }

    [Fact]
    public async Task A_small_page_size_walks_many_pages_without_losing_or_repeating_a_name()
    {
        var store = NewStore("list-pages", configure: o => o.ListPageSize = 7);
        var paths = Enumerable.Range(0, 50).Select(i => $"q/{i:D3}").ToList();
        foreach (var path in paths)
        {
            await store.PutAsync(path, new byte[] { 1 });
        }

        var pagesBefore = store.ListPagesRequested;
        var listed = await store.ListAsync("q/").Select(o => o.Path).ToListAsync();

        Assert.Equal(paths, listed);
        Assert.Equal(8, store.ListPagesRequested - pagesBefore);
    }

    [Fact]
    public async Task Large_objects_go_up_as_blocks_and_come_back_whole()
    {
        var store = NewStore("blocks", configure: o =>
        {
            o.SingleUploadLimitBytes = 1024 * 1024;
            o.BlockBytes = 256 * 1024;
        });
        var folder = Directory.CreateTempSubdirectory("blob-blocks-");
        try
        {
            var content = new byte[(5 * 1024 * 1024) + 3];
            new Random(5).NextBytes(content);
            var upload = Path.Join(folder.FullName, "upload.parquet");
            await File.WriteAllBytesAsync(upload, content);

            await store.PutFileAsync("silver/t/big.parquet", upload);
            await store.PutAsync("silver/t/big-from-memory.bin", content);
            var download = Path.Join(folder.FullName, "download.parquet");

            Assert.True(await store.GetFileAsync("silver/t/big.parquet", download));
            Assert.Equal(content, await File.ReadAllBytesAsync(download));
            Assert.Equal(content, await store.GetAsync("silver/t/big-from-memory.bin"));
            Assert.Equal(21, await store.CountCommittedBlocksAsync("silver/t/big.parquet"));
            Assert.Equal(21, await store.CountCommittedBlocksAsync("silver/t/big-from-memory.bin"));

            // Put Block List honours If-None-Match: * too.
            Assert.Equal(PutOutcome.Created, await store.PutIfAbsentAsync("silver/t/big-once.bin", content));
            Assert.Equal(PutOutcome.AlreadyExists, await store.PutIfAbsentAsync("silver/t/big-once.bin", content.AsMemory(1)));
            Assert.Equal(content.Length, (await store.GetInfoAsync("silver/t/big-once.bin"))!.Size);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Names_with_spaces_percent_signs_and_unicode_round_trip()
    {
        var store = NewStore("names");
        string[] paths = ["silver/q/reason=unknown currency/a b.json", "silver/q/ts=2026-01-01 00%3A00%3A00/x+y.json", "gold/ünïcødé/naïve €.json", "a/b=c&d=e?f#g.json"];

        foreach (var path in paths)
        {
            await store.PutAsync(path, Encoding.UTF8.GetBytes(path));
        }

        foreach (var path in paths)
        {
            Assert.Equal(path, Encoding.UTF8.GetString((await store.GetAsync(path))!));
            Assert.Equal(path, (await store.GetInfoAsync(path))!.Path);
        }

        Assert.Equal(paths.Order(StringComparer.Ordinal), await store.ListAsync("").Select(o => o.Path).ToListAsync());
        Assert.Equal(["silver/q/ts=2026-01-01 00%3A00%3A00/x+y.json"], await store.ListAsync("silver/q/ts=").Select(o => o.Path).ToListAsync());
        Assert.True(await store.DeleteAsync(paths[1]));
    }

    [Fact]
    public async Task A_wrong_account_key_fails_with_403_naming_the_fix_and_never_the_key()
    {
        var logger = new TestOutputLogger(output);
        var wrongKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("this is not the key of devstoreaccount1, 64 bytes long.........."));
        var options = azurite.Options(AzuriteServer.NewContainerName("wrong-key"));
        options.AccountKey = wrongKey;
        using var store = new BlobLakeStore(options, credential: null, transport: null, logger);

        var error = await Assert.ThrowsAsync<BlobLakeException>(() => store.PutAsync("a.json", "{}"u8.ToArray()));

        Assert.Equal(403, error.Status);
        Assert.Equal("Create Container", error.Operation);
        Assert.Contains("failed with 403", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: check Lake:Blob:AccountKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(BlobLakeOptions.AzuriteAccountKey, error.Message, StringComparison.Ordinal);
        Assert.All(logger.Lines, l => Assert.DoesNotContain(wrongKey, l, StringComparison.Ordinal));
        Assert.Equal(1, error.Attempts);
    }

    [Fact]
    public async Task A_missing_container_is_not_created_when_told_not_to_and_the_error_says_so()
    {
        var store = NewStore("not-created", configure: o => o.CreateContainer = false);

        var error = await Assert.ThrowsAsync<BlobLakeException>(() => store.PutAsync("a/b.json", "{}"u8.ToArray()));

        Assert.Equal((404, "ContainerNotFound", "Put Blob", "a/b.json"), (error.Status, error.ErrorCode, error.Operation, error.LakePath));
        Assert.Contains("Lake__Blob__CreateContainer=true", error.Message, StringComparison.Ordinal);
        Assert.Contains(store.Location, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_port_is_retried_then_fails_with_a_clear_exception()
    {
        var logger = new TestOutputLogger(output);
        var port = AzuriteServer.FreePort();
        var options = BlobLakeOptions.ForAzurite($"http://127.0.0.1:{port}/devstoreaccount1", "lake");
        options.CreateContainer = false;
        options.MaxRetries = 2;
        options.RetryDelay = TimeSpan.FromMilliseconds(20);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
        using var store = new BlobLakeStore(options, credential: null, transport: null, logger);

        var put = await Assert.ThrowsAsync<BlobLakeException>(() => store.PutAsync("silver/t/_delta_log/00000000000000000000.json", "{}"u8.ToArray()));
        var get = await Assert.ThrowsAsync<BlobLakeException>(() => store.GetAsync("silver/t/x.json"));

        Assert.Equal((0, 3, "Put Blob"), (put.Status, put.Attempts, put.Operation));
        Assert.StartsWith(
            $"Blob lake: Put Blob of 'silver/t/_delta_log/00000000000000000000.json' in http://127.0.0.1:{port}/devstoreaccount1/lake failed after 3 attempt(s): ",
            put.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", put.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: check that the Blob endpoint is up", put.Message, StringComparison.Ordinal);
        Assert.Equal((0, 3, "Get Blob"), (get.Status, get.Attempts, get.Operation));
        Assert.Equal(4, logger.Lines.Count(l => l.StartsWith("Warning: Blob lake: retrying", StringComparison.Ordinal)));
        Assert.Contains(logger.Lines, l => l.Contains("retrying Put Blob of silver/t/_delta_log/00000000000000000000.json (attempt 3)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutIfAbsent_on_an_existing_blob_without_a_retry_is_already_exists_even_with_the_same_bytes()
    {
        var store = NewStore("own-bytes");
        await store.PutAsync("x/_delta_log/00000000000000000001.json", "mine"u8.ToArray());

        // Without a retry the existing blob is always someone else's, whatever it holds.
        Assert.Equal(PutOutcome.AlreadyExists, await store.PutIfAbsentAsync("x/_delta_log/00000000000000000001.json", "mine"u8.ToArray()));
    }

    [Fact]
    public async Task PutIfMatch_replaces_only_the_version_it_read_and_a_stale_etag_gets_412_as_false()
    {
        var store = NewStore("if-match");
        await store.PutAsync("gold/_state.json", "v1"u8.ToArray());
        var first = (await store.GetInfoAsync("gold/_state.json"))!.ETag;

        Assert.True(await store.PutIfMatchAsync("gold/_state.json", "v2"u8.ToArray(), first));
        var second = (await store.GetInfoAsync("gold/_state.json"))!.ETag;
        Assert.False(await store.PutIfMatchAsync("gold/_state.json", "v3 from a stale reader"u8.ToArray(), first));
        Assert.False(await store.PutIfMatchAsync("gold/missing.json", "v1"u8.ToArray(), first));

        Assert.NotEqual(first, second);
        Assert.Equal("v2"u8.ToArray(), await store.GetAsync("gold/_state.json"));
        Assert.Null(await store.GetInfoAsync("gold/missing.json"));
    }

    [Fact]
    public async Task A_connection_string_with_the_account_key_reaches_azurite()
    {
        var container = AzuriteServer.NewContainerName("conn");
        var options = new BlobLakeOptions
        {
            Credential = BlobCredentialKinds.ConnectionString,
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={BlobLakeOptions.AzuriteAccountName};AccountKey={BlobLakeOptions.AzuriteAccountKey};BlobEndpoint={azurite.ServiceUri};",
            Container = container,
        };
        using var store = new BlobLakeStore(options, credential: null, transport: null, new TestOutputLogger(output));
        try
        {
            Assert.Equal($"{azurite.ServiceUri}/{container}", store.Location);
            Assert.Equal(PutOutcome.Created, await store.PutIfAbsentAsync("t/_delta_log/00000000000000000000.json", "{}"u8.ToArray()));
            Assert.Equal(PutOutcome.AlreadyExists, await store.PutIfAbsentAsync("t/_delta_log/00000000000000000000.json", "[]"u8.ToArray()));
            Assert.Equal(["t/_delta_log/00000000000000000000.json"], await store.ListAsync("t/").Select(o => o.Path).ToListAsync());
        }
        finally
        {
            await store.DeleteContainerAsync();
        }
    }

    [Fact]
    public async Task A_container_sas_authorizes_every_lake_operation_and_never_shows_in_errors()
    {
        var owner = NewStore("sas");
        await owner.CreateContainerIfMissingAsync();
        var container = new Uri(owner.Location).Segments[^1];
        var sas = new BlobSasBuilder(BlobContainerSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1)) { BlobContainerName = container }
            .ToSasQueryParameters(new StorageSharedKeyCredential(BlobLakeOptions.AzuriteAccountName, BlobLakeOptions.AzuriteAccountKey)).ToString();
        var options = new BlobLakeOptions { ServiceUri = azurite.ServiceUri, Container = container, Credential = BlobCredentialKinds.Sas, SasToken = sas, CreateContainer = false };
        using var store = new BlobLakeStore(options);

        await store.PutAsync("a/b.json", "{}"u8.ToArray());
        Assert.Equal("{}"u8.ToArray(), await store.GetAsync("a/b.json"));
        Assert.Equal(["a/b.json"], await store.ListAsync("a/").Select(o => o.Path).ToListAsync());
        Assert.True(await store.DeleteAsync("a/b.json"));

        // A SAS for another container is refused: the error names the status and the fix, not the signature.
        var elsewhere = new BlobLakeOptions { ServiceUri = azurite.ServiceUri, Container = "not-" + container[..20], Credential = BlobCredentialKinds.Sas, SasToken = sas, CreateContainer = false };
        using var refused = new BlobLakeStore(elsewhere);
        var error = await Assert.ThrowsAsync<BlobLakeException>(() => refused.PutAsync("a/b.json", "{}"u8.ToArray()));
        Assert.Equal(403, error.Status);
        Assert.Contains("the SAS token's permissions and expiry", error.Message, StringComparison.Ordinal);
        var signature = Uri.UnescapeDataString(sas[(sas.IndexOf("sig=", StringComparison.Ordinal) + 4)..].Split('&')[0]);
        Assert.DoesNotContain(signature, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(sas, error.ToString(), StringComparison.Ordinal);
    }

    private BlobLakeStore NewStore(string purpose = "store", string? container = null, Action<BlobLakeOptions>? configure = null)
    {
        var store = azurite.Store(container ?? AzuriteServer.NewContainerName(purpose), configure: configure, output: output);
        _stores.Add(store);
        return store;
    }
}
