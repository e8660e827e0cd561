namespace ProcessPools;

/// <summary>The base of the exceptions a process pool raises about a job.</summary>
public class ProcessPoolException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public ProcessPoolException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public ProcessPoolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public ProcessPoolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
