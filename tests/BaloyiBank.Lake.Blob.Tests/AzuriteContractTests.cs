using System.Text;
using BaloyiBank.Lake.Tests;

namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>The lake port's contract suite against Azurite: each test gets its own container, deleted afterwards.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class AzuriteContractTests(AzuriteServer azurite) : LakeStoreContract, IAsyncLifetime
{
    private readonly List<BlobLakeStore> _stores = [];

    protected override Task<ILakeStore> CreateStoreAsync()
    {
        var store = azurite.Store(AzuriteServer.NewContainerName("contract"));
        _stores.Add(store);
        return Task.FromResult<ILakeStore>(store);
    }

    protected override async Task<IReadOnlyList<string>> ChildLakeAsync(ILakeStore store)
    {
        await ((BlobLakeStore)store).CreateContainerIfMissingAsync();
        return [store.Location];
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DeleteContainerAsync();
            store.Dispose();
        }
    }
}

/// <summary>
/// The same suite on a store rooted at a prefix of a shared container, beside a blob outside that prefix: the prefix is
/// added on the way in, removed on the way out, and nothing outside it is ever seen.
/// </summary>
[Collection(AzuriteGroup.Name)]
public sealed class AzuritePrefixedContractTests(AzuriteServer azurite) : LakeStoreContract, IAsyncLifetime
{
    private readonly List<BlobLakeStore> _stores = [];

    protected override async Task<ILakeStore> CreateStoreAsync()
    {
        var container = AzuriteServer.NewContainerName("prefixed");
        var root = azurite.Store(container);
        _stores.Add(root);
        await root.PutAsync("outside/t/a.txt", Encoding.UTF8.GetBytes("not in the lake"));
        await root.PutAsync("tenant-a/lakeside.txt", Encoding.UTF8.GetBytes("a sibling whose name starts like the prefix"));
        var store = azurite.Store(container, prefix: "tenant-a/lake");
        _stores.Add(store);
        return store;
    }

    protected override Task<IReadOnlyList<string>> ChildLakeAsync(ILakeStore store) =>
        Task.FromResult<IReadOnlyList<string>>([store.Location[..^"/tenant-a/lake".Length], "tenant-a/lake"]);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DeleteContainerAsync();
            store.Dispose();
        }
    }
}

/// <summary>Lake generations against Azurite: each test gets its own container, deleted afterwards.</summary>
[Collection(AzuriteGroup.Name)]
public sealed class AzuriteLakeGenerationsTests(AzuriteServer azurite) : LakeGenerationsContract, IAsyncLifetime
{
    private readonly List<BlobLakeStore> _stores = [];

    protected override async Task<ILakeStore> CreateGenerationStoreAsync()
    {
        var store = azurite.Store(AzuriteServer.NewContainerName("generations"));
        _stores.Add(store);
        await store.CreateContainerIfMissingAsync();
        return store;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DeleteContainerAsync();
            store.Dispose();
        }
    }
}
