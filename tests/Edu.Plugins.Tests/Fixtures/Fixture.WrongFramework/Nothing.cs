namespace Fixture.WrongFramework;

public sealed class Nothing
{
}
