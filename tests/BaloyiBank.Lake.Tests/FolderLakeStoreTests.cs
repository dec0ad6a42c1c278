using System.Diagnostics;
using System.Text;
using BaloyiBank.Lake.RaceChild;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake.Tests;

/// <summary>A fresh folder per test, removed afterwards.</summary>
public abstract class TemporaryFolderTest : IDisposable
{
    protected string Root { get; } = Directory.CreateTempSubdirectory("baloyi-lake-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the OS temp folder is cleaned eventually.
        }

        GC.SuppressFinalize(this);
    }
}

public sealed class FolderLakeStoreContractTests : LakeStoreContract, IDisposable
{
    private readonly List<string> _roots = [];

    protected override Task<ILakeStore> CreateStoreAsync()
    {
        var root = Directory.CreateTempSubdirectory("baloyi-lake-contract-").FullName;
        _roots.Add(root);
        return Task.FromResult<ILakeStore>(new FolderLakeStore(root));
    }

    protected override Task<IReadOnlyList<string>> ChildLakeAsync(ILakeStore store) => Task.FromResult<IReadOnlyList<string>>([store.Location]);

    public void Dispose()
    {
        foreach (var root in _roots)
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

public sealed class FolderLakeStoreTests : TemporaryFolderTest
{
    [Fact]
    public async Task Temporary_files_of_a_crashed_writer_are_invisible_and_cleaned_when_old()
    {
        var store = new FolderLakeStore(Root);
        await store.PutAsync("silver/t/_delta_log/00000000000000000000.json", "{}"u8.ToArray());
        var folder = Path.Join(Root, "silver", "t", "_delta_log");
        var stale = Path.Join(folder, LakePath.TemporaryPrefix + "crashed");
        var fresh = Path.Join(folder, LakePath.TemporaryPrefix + "in-flight");
        await File.WriteAllTextAsync(stale, "half a commit");
        await File.WriteAllTextAsync(fresh, "being written");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));

        var listed = await store.ListAsync("silver/").Select(o => o.Path).ToListAsync();
        var deleted = store.CleanTemporaryFiles(TimeSpan.FromHours(1));

        Assert.Equal(["silver/t/_delta_log/00000000000000000000.json"], listed);
        Assert.Empty(await store.ListAsync("silver/t/_delta_log/.lake").ToListAsync());
        Assert.Equal(1, deleted);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
    }

    [Fact]
    public async Task Writes_leave_no_temporary_files_behind()
    {
        var store = new FolderLakeStore(Root);
        await store.PutAsync("a/b.json", "1"u8.ToArray());
        await store.PutAsync("a/b.json", "2"u8.ToArray());
        await store.PutIfAbsentAsync("a/c.json", "3"u8.ToArray());
        await store.PutIfAbsentAsync("a/c.json", "4"u8.ToArray());

        Assert.Equal(["b.json", "c.json"], Directory.GetFiles(Path.Join(Root, "a")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("a/../b", "it contains a '..' segment")]
    [InlineData("a/./b", "it contains a '.' segment")]
    [InlineData("a//b", "it has an empty segment ('//')")]
    [InlineData("a/", "it ends with '/'")]
    [InlineData("/etc/passwd", "it starts with '/'")]
    [InlineData(@"silver\t", "it contains a backslash")]
    [InlineData("", "it is empty")]
    [InlineData("x/.lake-tmp~1", "reserved prefix")]
    public async Task Invalid_paths_are_explained(string path, string problem)
    {
        var store = new FolderLakeStore(Root);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(path));

        Assert.Equal("path", error.ParamName);
        Assert.Contains($"Lake path '{path}' is invalid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("Lake paths are relative, '/'-separated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddLake_builds_a_folder_store_at_the_configured_root()
    {
        using var provider = Provider(new() { ["Lake:Kind"] = "folder", ["Lake:Folder:Root"] = Path.Join(Root, "lake") });

        var store = provider.GetRequiredService<ILakeStore>();

        Assert.IsType<FolderLakeStore>(store);
        Assert.Equal(Path.Join(Root, "lake"), store.Location);
        Assert.Same(store, provider.GetRequiredService<ILakeStore>());
    }

    [Fact]
    public void AddLake_defaults_to_a_folder_under_data()
    {
        var options = new LakeOptions();

        Assert.Equal("folder", options.Kind);
        Assert.Equal("./data/lake", options.Folder.Root);
    }

    [Fact]
    public void An_unknown_kind_fails_with_the_operator_message()
    {
        using var provider = Provider(new() { ["Lake:Kind"] = "xyz" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ILakeStore>());

        Assert.Equal(["Lake:Kind must be one of folder (got 'xyz'). Fix: set Lake__Kind to folder."], error.Failures);
    }

    [Fact]
    public void An_empty_root_fails_with_the_operator_message()
    {
        using var provider = Provider(new() { ["Lake:Folder:Root"] = " " });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LakeOptions>>().Value);

        Assert.Equal(["Lake:Folder:Root must name a folder (got nothing). Fix: set Lake__Folder__Root to a local folder, e.g. ./data/lake."], error.Failures);
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLake(configuration).BuildServiceProvider();
    }
}

