/* nospofctl (placeholder until the control client lands). */
int main(void)
{
    return 0;
}
