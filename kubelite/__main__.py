from kubelite.cli.main import main

main()
