from allo.cli import main

main()
