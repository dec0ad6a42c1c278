using System.Globalization;
using System.Runtime.CompilerServices;

namespace BaloyiBank.Lake;

/// <summary>
/// The embedded lake: objects are files under a root folder. Every write goes to a hidden temporary
/// file in the target's folder, is fsynced, and is then published in one step: rename(2) for
/// <see cref="PutAsync"/> (replaces), link(2) for <see cref="PutIfAbsentAsync"/> (fails when the name
/// exists, across threads and processes), and for <see cref="PutIfMatchAsync"/> a rename made while holding an
/// exclusive lock on a hidden per-object lock file (flock(2) through <see cref="FileShare.None"/>), so the ETag
/// comparison and the replace are one step for every process on the machine. Needs a local file system with hard links and nanosecond
/// modification times (ext4, xfs, btrfs, tmpfs, APFS); not a network share.
/// </summary>
public sealed class FolderLakeStore : ILakeStore
{
    private static readonly EnumerationOptions AllEntries = new()
    {
        // The default options skip hidden entries, and on Unix that means every name starting with '.'.
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private const string LockPrefix = LakePath.TemporaryPrefix + "lock~";

    private static long s_lastStamp;

    private readonly string _root;

    public FolderLakeStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Location => _root;

    public async Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var target = ResolveForWrite(path);
        var temporary = await WriteTemporaryAsync(target, (stream, ct) => stream.WriteAsync(content, ct), cancellationToken);
        Publish(temporary, target);
    }

    public async Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        var target = ResolveForWrite(path);
        var temporary = await WriteTemporaryAsync(target, async (stream, ct) =>
        {
            await using var source = new FileStream(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            await source.CopyToAsync(stream, 1 << 20, ct);
        }, cancellationToken);
        Publish(temporary, target);
    }

    /// <summary><c>&lt;root&gt;/.lake-tmp~staging</c>: on the lake's file system and, by its prefix, never listed.</summary>
    public string LocalStagingFolder => Path.Join(_root, LakePath.TemporaryPrefix + "staging");

    public Task TakeFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        var full = Path.GetFullPath(localFile);
        if (!full.StartsWith(LocalStagingFolder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return TakeByCopyAsync(path, localFile, cancellationToken);
        }

        var target = ResolveForWrite(path);
        using (var stream = new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.None, bufferSize: 0))
        {
            // As WriteTemporaryAsync: a unique mtime for the ETag, and the bytes on disk before the name is.
            File.SetLastWriteTimeUtc(stream.SafeFileHandle, NextStamp());
            stream.Flush(flushToDisk: true);
        }

        Publish(full, target);
        return Task.CompletedTask;
    }

    private async Task TakeByCopyAsync(string path, string localFile, CancellationToken cancellationToken)
    {
        await PutFileAsync(path, localFile, cancellationToken);
        File.Delete(localFile);
    }

    public async Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var target = ResolveForWrite(path);
        // Only an optimisation: the link below is what decides.
        if (File.Exists(target))
        {
            return PutOutcome.AlreadyExists;
        }

        var temporary = await WriteTemporaryAsync(target, (stream, ct) => stream.WriteAsync(content, ct), cancellationToken);
        bool created;
        try
        {
            created = NativeFileSystem.TryCreateExclusive(temporary, target);
        }
        finally
        {
            DeleteQuietly(temporary);
        }

        if (created)
        {
            NativeFileSystem.TryFlushDirectory(Path.GetDirectoryName(target)!);
        }

        return created ? PutOutcome.Created : PutOutcome.AlreadyExists;
    }

    public async Task<bool> PutIfMatchAsync(string path, ReadOnlyMemory<byte> content, string etag, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(etag);
        var target = ResolveForWrite(path);
        if (TryDescribe(path, new FileInfo(target))?.ETag != etag)
        {
            // Only an optimisation: the comparison under the lock below is what decides.
            return false;
        }

        string? temporary = await WriteTemporaryAsync(target, (stream, ct) => stream.WriteAsync(content, ct), cancellationToken);
        try
        {
            await using var held = await LockAsync(target, cancellationToken);
            if (TryDescribe(path, new FileInfo(target))?.ETag != etag)
            {
                return false;
            }

            Publish(temporary, target);
            temporary = null;
            return true;
        }
        finally
        {
            if (temporary is not null)
            {
                DeleteQuietly(temporary);
            }
        }
    }

    public async Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = Resolve(path);
        try
        {
            return await File.ReadAllBytesAsync(full, cancellationToken);
        }
        catch (Exception e) when (IsMissing(e, full))
        {
            return null;
        }
    }

    public async Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        var full = Resolve(path);
        FileStream source;
        try
        {
            // The open handle pins the version being read: a concurrent replace does not tear the copy.
            source = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (IsMissing(e, full))
        {
            return false;
        }

        await using (source)
        {
            await using var destination = new FileStream(localFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            await source.CopyToAsync(destination, 1 << 20, cancellationToken);
        }

        return true;
    }

    public Task<LakeObjectInfo?> GetInfoAsync(string path, CancellationToken cancellationToken = default)
    {
        var file = new FileInfo(Resolve(path));
        return Task.FromResult(TryDescribe(path, file));
    }

    public IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        LakePath.ValidatePrefix(prefix);
        return List(prefix, cancellationToken).ToAsyncEnumerable();
    }

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        Task.FromResult(NativeFileSystem.TryDelete(Resolve(path)));

    /// <summary>
    /// Deletes in-flight files a crashed writer left behind, when last written before now - <paramref name="olderThan"/>
    /// (choose well above the longest upload). Returns how many were deleted.
    /// </summary>
    public int CleanTemporaryFiles(TimeSpan olderThan)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(olderThan, TimeSpan.Zero);
        var cutoff = DateTime.UtcNow - olderThan;
        var deleted = 0;
        var options = new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = true, IgnoreInaccessible = true };
        foreach (var file in new DirectoryInfo(_root).EnumerateFiles(LakePath.TemporaryPrefix + "*", options))
        {
            // A lock file is not an abandoned write; deleting one another process holds would let two writers in.
            if (file.Name.StartsWith(LockPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (file.LastWriteTimeUtc < cutoff && NativeFileSystem.TryDelete(file.FullName))
            {
                deleted++;
            }
        }

        return deleted;
    }

    public override string ToString() => $"folder lake at {_root}";

    private string Resolve(string path)
    {
        LakePath.Validate(path);
        return Path.Join(_root, path);
    }

    private string ResolveForWrite(string path)
    {
        var full = Resolve(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return full;
    }

    private static async Task<string> WriteTemporaryAsync(
        string target, Func<Stream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        // Same folder as the target, so the publishing rename/link never crosses a file system.
        var temporary = Path.Join(Path.GetDirectoryName(target), LakePath.TemporaryPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            await using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            await write(stream, cancellationToken);
            // The ETag is size + mtime: stamp a unique, high-resolution mtime rather than trust the kernel's coarse clock.
            File.SetLastWriteTimeUtc(stream.SafeFileHandle, NextStamp());
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }

        return temporary;
    }

    /// <summary>
    /// Holds <c>.lake-tmp~lock~&lt;name&gt;</c> beside <paramref name="target"/> open exclusively: on Unix .NET takes a
    /// flock(2) for <see cref="FileShare.None"/>, which excludes every other open of it, in this process or another.
    /// </summary>
    private static async Task<FileStream> LockAsync(string target, CancellationToken cancellationToken)
    {
        var lockFile = Path.Join(Path.GetDirectoryName(target), LockPrefix + Path.GetFileName(target));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            }
            catch (IOException) when (attempt < 10_000)
            {
                // Held by another writer for the few microseconds of a compare and rename.
                await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken);
            }
        }
    }

    private static void Publish(string temporary, string target)
    {
        try
        {
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }

        NativeFileSystem.TryFlushDirectory(Path.GetDirectoryName(target)!);
    }

    private IEnumerable<LakeObjectInfo> List(string prefix, CancellationToken cancellationToken)
    {
        var slash = prefix.LastIndexOf('/');
        var directoryPath = slash < 0 ? "" : prefix[..(slash + 1)];
        var namePrefix = prefix[(slash + 1)..];
        return Walk(Path.Join(_root, directoryPath), directoryPath, namePrefix, cancellationToken);
    }

    // Depth-first with each folder's entries sorted by name, a folder counting as "name/":
    // that yields the paths in the same ordinal order a blob listing has ('.' < '/' < '0').
    private static IEnumerable<LakeObjectInfo> Walk(string directory, string relative, string namePrefix, CancellationToken cancellationToken)
    {
        List<(string Key, FileSystemInfo Entry)> entries;
        try
        {
            entries = [.. new DirectoryInfo(directory).EnumerateFileSystemInfos("*", AllEntries)
                .Where(e => e.Name.StartsWith(namePrefix, StringComparison.Ordinal)
                    && !e.Name.StartsWith(LakePath.TemporaryPrefix, StringComparison.Ordinal))
                .Select(e => (Key: e is DirectoryInfo ? e.Name + "/" : e.Name, Entry: e))];
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (key, entry) in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry is DirectoryInfo subdirectory)
            {
                foreach (var info in Walk(subdirectory.FullName, relative + key, "", cancellationToken))
                {
                    yield return info;
                }
            }
            else if (TryDescribe(relative + key, (FileInfo)entry) is { } info)
            {
                yield return info;
            }
        }
    }

    private static LakeObjectInfo? TryDescribe(string path, FileInfo file)
    {
        try
        {
            if (!file.Exists)
            {
                return null;
            }

            var size = file.Length;
            var modified = file.LastWriteTimeUtc;
            var etag = string.Create(CultureInfo.InvariantCulture, $"{modified.Ticks:x}-{size:x}");
            return new LakeObjectInfo(path, size, new DateTimeOffset(modified, TimeSpan.Zero), etag);
        }
        catch (FileNotFoundException)
        {
            // Deleted between the listing and the read of its size.
            return null;
        }
    }

    private static DateTime NextStamp()
    {
        // Strictly increasing within the process, so two writes in one clock tick still get distinct ETags.
        while (true)
        {
            var last = Interlocked.Read(ref s_lastStamp);
            var next = Math.Max(DateTime.UtcNow.Ticks, last + 1);
            if (Interlocked.CompareExchange(ref s_lastStamp, next, last) == last)
            {
                return new DateTime(next, DateTimeKind.Utc);
            }
        }
    }

    private static bool IsMissing(Exception e, string full) =>
        e is FileNotFoundException or DirectoryNotFoundException
        || (e is IOException or UnauthorizedAccessException && !File.Exists(full));

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover temporary file is invisible and CleanTemporaryFiles removes it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
