"""会員登録 (citizen registration), steps 1/4 to 4/4, in both cities' styles."""
